/**
 * Keeps the holder section of a user's UserGrants object in step with D1 (the record). Every writer
 * of a user's memberships, email or name — sign-in, invitation acceptance, role change, removal, a
 * client_credentials app's service user — changes D1 first (bumping `users.membership_version` in
 * the same transaction) and then calls `publishHolder` before it answers, so the token hot paths can
 * read the role from the object alone. docs/architecture.md has the full argument.
 */
import type { Env } from "../config";
import { userGrants } from "../durable/stub";
import { dbOf } from "../store/db";
import { markFamiliesRevoked } from "../store/token-families";
import { holderRecord } from "../store/users";

/** A user that no longer exists holds nothing: this version outranks every record D1 could give. */
const GONE = Number.MAX_SAFE_INTEGER;

/**
 * Copies the user's record from D1 into their object (read after the caller's D1 change committed,
 * so it is at least as new). Teams the user left are tombstoned there and their token families
 * revoked in the object's same transaction, then marked in the D1 index. One retry: a failure
 * surfaces to the caller, whose change then does not report success.
 */
export async function publishHolder(env: Env, userId: string): Promise<void> {
  const db = dbOf(env.DB);
  const now = Date.now();
  const record = (await holderRecord(db, userId)) ?? { version: GONE, email: null, name: null, teams: [] };
  let result: Awaited<ReturnType<ReturnType<typeof userGrants>["publishHolder"]>>;
  try {
    result = await userGrants(env, userId).publishHolder(record, now);
  } catch {
    result = await userGrants(env, userId).publishHolder(record, now);
  }
  await markFamiliesRevoked(db, result.revokedFamilies, now);
}
