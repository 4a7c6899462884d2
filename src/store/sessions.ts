/** Browser sessions: D1 rows keyed by the SHA-256 of the cookie value. */
import { and, eq, gt, sql } from "drizzle-orm";
import { oncePer } from "../platform/once-per";
import type { Db } from "./db";
import { consents, memberships, sessions, teams, users } from "./schema";
import { MEMBERSHIP_ORDER } from "./users";

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
 * For /oauth/authorize, in one D1 statement (one round trip): the live session and its user, the
 * user's memberships (with what fills their UserGrants object) and what they consented to for
 * `clientId`. A row per membership (one with none when the user has no team).
 */
export async function findLiveSessionForClient(db: Db, idHash: string, now: number, clientId: string) {
  const rows = await sessionForClientQuery(db).all({ idHash, now, clientId });
  const [first] = rows;
  if (!first) return undefined;
  const { user } = first;
  const holder = { email: user.email, name: user.name, membershipVersion: user.membershipVersion };
  return {
    user,
    session: { authTime: first.authTime, createdAt: first.sessionCreatedAt },
    memberships: rows.flatMap(({ membership, teamName }) =>
      membership && teamName !== null ? [{ ...membership, teamName, ...holder }] : [],
    ),
    consented: new Set<string>(first.consented ?? []),
  };
}

/**
 * Every signed-in authorization runs this query, so drizzle builds its SQL once per isolate and D1
 * binding (`prepare`, with placeholders) instead of on each request.
 */
const sessionForClientQuery = oncePer(prepareSessionForClient);

function prepareSessionForClient(db: Db) {
  return db
    .select({
      user: users,
      authTime: sessions.authTime,
      sessionCreatedAt: sessions.createdAt,
      membership: memberships,
      teamName: teams.name,
      consented: consents.scopes,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(memberships, eq(memberships.userId, sessions.userId))
    .leftJoin(teams, eq(teams.id, memberships.teamId))
    .leftJoin(consents, and(eq(consents.userId, sessions.userId), eq(consents.clientId, sql.placeholder("clientId"))))
    .where(and(eq(sessions.idHash, sql.placeholder("idHash")), gt(sessions.expiresAt, sql.placeholder("now"))))
    .orderBy(...MEMBERSHIP_ORDER)
    .prepare();
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
