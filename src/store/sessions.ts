/** Browser sessions: D1 rows keyed by the SHA-256 of the cookie value. */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Db } from "./db";
import { consents, memberships, sessions, users } from "./schema";
import { membershipsWhere } from "./users";

export type SessionRow = typeof sessions.$inferSelect;

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db.insert(sessions).values(row);
}

/** The live session and its user, or undefined (expired, signed out, or revoked). */
export function findLiveSession(db: Db, idHash: string, now: number) {
  return liveSessionQuery(db, idHash, now).get();
}

function liveSessionQuery(db: Db, idHash: string, now: number) {
  return db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now)));
}

/**
 * For /oauth/authorize, in one D1 batch (one round trip): the live session and its user, the user's
 * memberships (with what fills their UserGrants object) and what they consented to for `clientId`.
 */
export async function findLiveSessionForClient(db: Db, idHash: string, now: number, clientId: string) {
  const userOfSession = sql`(SELECT ${sessions.userId} FROM ${sessions} WHERE ${sessions.idHash} = ${idHash})`;
  const [found, teams, consent] = await db.batch([
    // Column names must be unique within a batched statement (D1 maps its rows by name).
    db
      .select({
        user: users,
        authTime: sessions.authTime,
        createdAt: sql<number>`${sessions.createdAt}`.as("session_created_at"),
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now))),
    membershipsWhere(db, sql`${memberships.userId} = ${userOfSession}`),
    db
      .select({ scopes: consents.scopes })
      .from(consents)
      .where(and(sql`${consents.userId} = ${userOfSession}`, eq(consents.clientId, clientId))),
  ]);
  const [row] = found;
  if (!row) return undefined;
  return {
    user: row.user,
    session: { authTime: row.authTime, createdAt: row.createdAt },
    memberships: teams,
    consented: new Set<string>(consent[0]?.scopes ?? []),
  };
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, idHash));
}

/**
 * Every session of the user ends: the rows go, and users.revoked_before moves to `now`, so a
 * session created by a request already in flight is refused too (http/session.ts).
 */
export async function endAllSessionsOfUser(db: Db, userId: string, now: number): Promise<void> {
  await db.batch([
    db.update(users).set({ revokedBefore: now }).where(eq(users.id, userId)),
    db.delete(sessions).where(eq(sessions.userId, userId)),
  ]);
}
