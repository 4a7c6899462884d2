/**
 * Keeps the holder section of a user's UserGrants object in step with D1 (the record). Every writer
 * of a user's memberships, email or name — sign-in, invitation acceptance, role change, removal, a
 * client_credentials app's service user — changes D1 first (bumping `users.membership_version` in
 * the same transaction) and then calls `publishHolder` before it answers, so the token hot paths can
 * read the role from the object alone. docs/architecture.md has the full argument.
 */
import type { Env } from "../config";
import { everyUserGrants, type LocationHint } from "../durable/stub";
import { dbOf } from "../store/db";
import { markFamiliesRevoked } from "../store/token-families";
import { holderRecord } from "../store/users";

/**
 * Before an admin's change to the person in D1: if the publish that follows never happens (the
 * worker dies in between), the person's object copies D1 by itself within 30 s (its alarm).
 */
export async function expectHolderChange(env: Env, userId: string): Promise<void> {
  await Promise.all(everyUserGrants(env, userId).map((grants) => grants.expectHolderChange(userId)));
}

/**
 * Copies the user's record from D1 into their object (read after the caller's D1 change committed,
 * so it is at least as new). Teams the user left are tombstoned there and their token families
 * revoked in the object's same transaction, then marked in the D1 index. A service user's record
 * goes to each of its shards (`locationHint`: where a new app's shards are created). One retry per
 * object: a failure surfaces to the caller, whose change then does not report success.
 */
export async function publishHolder(
  env: Env,
  userId: string,
  { settles, locationHint }: { settles?: boolean; locationHint?: LocationHint | null } = {},
): Promise<void> {
  const db = dbOf(env.DB);
  const now = Date.now();
  const record = await holderRecord(db, userId);
  const revoked = await Promise.all(
    everyUserGrants(env, userId, locationHint).map(async (grants) => {
      try {
        return (await grants.publishHolder(record, now, { settles })).revokedFamilies;
      } catch {
        return (await grants.publishHolder(record, now, { settles })).revokedFamilies;
      }
    }),
  );
  await markFamiliesRevoked(db, revoked.flat(), now);
}
