/**
 * Revocation that reaches everywhere at once: every family lives in its user's UserGrants object,
 * so revoking is one call per affected user; the D1 index says which users those are.
 */
import { eq } from "drizzle-orm";
import type { Env } from "../../config";
import { userGrants } from "../../durable/stub";
import { dbOf } from "../../store/db";
import { clients, users } from "../../store/schema";
import { deleteSessionsOfUser } from "../../store/sessions";
import { liveFamiliesOfClient, markFamiliesRevoked } from "../../store/token-families";

async function revokeFamiliesByUser(env: Env, families: { id: string; userId: string }[], reason: string, now: number) {
  const byUser = new Map<string, string[]>();
  for (const f of families) byUser.set(f.userId, [...(byUser.get(f.userId) ?? []), f.id]);
  const revoked = await Promise.all(
    [...byUser].map(([userId, familyIds]) => userGrants(env, userId).revokeFamilies({ familyIds }, reason, now)),
  );
  await markFamiliesRevoked(dbOf(env.DB), revoked.flat(), now);
}

/**
 * Every token of a client dies now: all its token families (refresh tokens and the access tokens
 * minted from them) and, for a client-credentials app, every access token of its service user.
 */
export async function revokeAllTokensOfClient(env: Env, clientId: string): Promise<void> {
  const db = dbOf(env.DB);
  const now = Date.now();
  const client = await db
    .select({ serviceUserId: clients.serviceUserId })
    .from(clients)
    .where(eq(clients.id, clientId))
    .get();
  await db.update(clients).set({ revokedBefore: now }).where(eq(clients.id, clientId));
  await revokeFamiliesByUser(env, await liveFamiliesOfClient(db, clientId), "client_revoked", now);
  if (client?.serviceUserId) await userGrants(env, client.serviceUserId).revokeAllBefore(now);
}

/** A user revokes one connected app: every family of that user with that client dies. */
export async function revokeUserClientTokens(env: Env, userId: string, clientId: string): Promise<void> {
  const now = Date.now();
  const db = dbOf(env.DB);
  // The object returns what it revoked: that is what the D1 index must mark.
  const revoked = await userGrants(env, userId).revokeFamilies({ clientId }, "user_revoked", now);
  await markFamiliesRevoked(db, revoked, now);
}

/** Sign out everywhere: every token and session of the user issued before now dies. */
export async function revokeEverythingOfUser(env: Env, userId: string): Promise<void> {
  const now = Date.now();
  const db = dbOf(env.DB);
  await userGrants(env, userId).revokeAllBefore(now);
  await db.update(users).set({ revokedBefore: now }).where(eq(users.id, userId));
  await deleteSessionsOfUser(db, userId);
}
