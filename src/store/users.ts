/** Users, teams and memberships. */
import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
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
export type UserInTeam = {
  user: Pick<UserRow, "id" | "email" | "name">;
  membership: Pick<MembershipRow, "teamId" | "role" | "onCallRole">;
};

const userInTeamStatements = new WeakMap<Db, ReturnType<typeof prepareUserInTeam>>();

/** Built once per D1 handle: this read is on the token, userinfo and introspection hot paths. */
function prepareUserInTeam(db: Db) {
  return db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      teamId: memberships.teamId,
      role: memberships.role,
      onCallRole: memberships.onCallRole,
    })
    .from(users)
    .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.teamId, sql.placeholder("teamId"))))
    .where(eq(users.id, sql.placeholder("userId")))
    .prepare();
}

export async function getUserInTeam(db: Db, userId: string, teamId: string): Promise<UserInTeam | undefined> {
  let statement = userInTeamStatements.get(db);
  if (!statement) {
    statement = prepareUserInTeam(db);
    userInTeamStatements.set(db, statement);
  }
  const row = await statement.get({ userId, teamId });
  if (!row) return undefined;
  return {
    user: { id: row.id, email: row.email, name: row.name },
    membership: { teamId: row.teamId, role: row.role, onCallRole: row.onCallRole },
  };
}

// ---- provisioning (sign-in) ----------------------------------------------------------------------
// Each returns the drizzle statement, so a caller can await it or put several in one atomic db.batch.

export type NewTeam = typeof teams.$inferInsert;
export type NewMembership = typeof memberships.$inferInsert;

/** The team of an upstream organization (Google `hd`, Entra `tid`) at that upstream issuer. */
export function findTeamByUpstreamOrg(db: Db, upstreamIssuer: string, orgId: string): Promise<TeamRow | undefined> {
  return db
    .select()
    .from(teams)
    .where(and(eq(teams.upstreamIssuer, upstreamIssuer), eq(teams.upstreamOrgId, orgId)))
    .get();
}

/** Fails on a duplicate (upstream issuer, org id): the caller then joins the team that won. */
/**
 * In one D1 batch (a transaction): a new team if any, a new person if any (email stored
 * lower-cased; fails on a duplicate email), and the membership (kept if it exists).
 */
export async function insertPersonInTeam(
  db: Db,
  rows: { newTeam?: NewTeam; newUser?: { id: string; email: string; name: string | null }; membership: NewMembership },
): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [];
  if (rows.newTeam) statements.push(db.insert(teams).values(rows.newTeam));
  const user = rows.newUser;
  if (user) {
    statements.push(
      db.insert(users).values({ id: user.id, kind: "human", email: user.email.toLowerCase(), name: user.name }),
    );
  }
  statements.push(db.insert(memberships).values(rows.membership).onConflictDoNothing());
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

export function updateUserName(db: Db, userId: string, name: string) {
  return db.update(users).set({ name }).where(eq(users.id, userId));
}
