/** Browser sessions: D1 rows keyed by the SHA-256 of the cookie value. */
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "./db";
import { sessions, users } from "./schema";

export type SessionRow = typeof sessions.$inferSelect;

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db.insert(sessions).values(row);
}

/** The live session and its user, or undefined (expired, signed out, or revoked). */
export function findLiveSession(db: Db, idHash: string, now: number) {
  return db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now)))
    .get();
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
