/** Users, teams and memberships. */
import { and, eq } from "drizzle-orm";
import type { Db } from "./db";
import { memberships, teams, users } from "./schema";

export type UserRow = typeof users.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;

export function getUser(db: Db, id: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export function getUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.email, email.toLowerCase())).get();
}

export function getTeam(db: Db, id: string): Promise<TeamRow | undefined> {
  return db.select().from(teams).where(eq(teams.id, id)).get();
}

export function getMembership(db: Db, userId: string, teamId: string): Promise<MembershipRow | undefined> {
  return db
    .select()
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.teamId, teamId)))
    .get();
}

/** The user's teams with their roles (a human usually has one). */
export function listMemberships(db: Db, userId: string): Promise<(MembershipRow & { teamName: string })[]> {
  return db
    .select({
      userId: memberships.userId,
      teamId: memberships.teamId,
      role: memberships.role,
      onCallRole: memberships.onCallRole,
      createdAt: memberships.createdAt,
      teamName: teams.name,
    })
    .from(memberships)
    .innerJoin(teams, eq(teams.id, memberships.teamId))
    .where(eq(memberships.userId, userId))
    .all();
}

/** A user together with one membership: what tokens and userinfo need, in one D1 read. */
export function getUserInTeam(
  db: Db,
  userId: string,
  teamId: string,
): Promise<{ user: UserRow; membership: MembershipRow } | undefined> {
  return db
    .select({ user: users, membership: memberships })
    .from(users)
    .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.teamId, teamId)))
    .where(eq(users.id, userId))
    .get();
}
