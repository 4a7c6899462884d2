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

/**
 * The user's teams with their roles (a human usually has one), each with the user's email, name and
 * `membership_version` read in the same statement (what fills the user's UserGrants object).
 */
export function listMemberships(db: Db, userId: string): Promise<MembershipWithTeam[]> {
  return db
    .select({
      userId: memberships.userId,
      teamId: memberships.teamId,
      role: memberships.role,
      onCallRole: memberships.onCallRole,
      createdAt: memberships.createdAt,
      teamName: teams.name,
      email: users.email,
      name: users.name,
      membershipVersion: users.membershipVersion,
    })
    .from(memberships)
    .innerJoin(teams, eq(teams.id, memberships.teamId))
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.userId, userId))
    .orderBy(...MEMBERSHIP_ORDER)
    .all();
}

/** A person's teams oldest membership first, so "their team" (memberships[0]) is always the same one. */
export const MEMBERSHIP_ORDER = [memberships.createdAt, memberships.teamId] as const;

export type MembershipWithTeam = MembershipRow & { teamName: string } & HolderFields;

type HolderFields = Pick<UserRow, "email" | "name" | "membershipVersion">;

/**
 * What the user's UserGrants object holds about them, as D1 has it now: email, name and every
 * membership, with the version they were read at, in one statement (so the version is never newer
 * than the data). A user that does not exist (a deleted app's service user) holds nothing, at a
 * version no record of theirs can outrank.
 */
export async function holderRecord(
  db: Db,
  userId: string,
): Promise<{
  version: number;
  email: string | null;
  name: string | null;
  teams: { teamId: string; role: string; onCallRole: string }[];
}> {
  const rows = await db
    .select({
      version: users.membershipVersion,
      email: users.email,
      name: users.name,
      teamId: memberships.teamId,
      role: memberships.role,
      onCallRole: memberships.onCallRole,
    })
    .from(users)
    .leftJoin(memberships, eq(memberships.userId, users.id))
    .where(eq(users.id, userId))
    .all();
  const [first] = rows;
  if (!first) return { version: Number.MAX_SAFE_INTEGER, email: null, name: null, teams: [] };
  const teams = rows.flatMap((r) =>
    r.teamId && r.role && r.onCallRole ? [{ teamId: r.teamId, role: r.role, onCallRole: r.onCallRole }] : [],
  );
  return { version: first.version, email: first.email, name: first.name, teams };
}

/**
 * Goes into the same D1 batch as every change to a user's memberships, email or name: the version
 * orders the copies of that state in the user's UserGrants object (docs/architecture.md).
 */
export function bumpMembershipVersion(db: Db, userId: string) {
  return db
    .update(users)
    .set({ membershipVersion: sql`${users.membershipVersion} + 1` })
    .where(eq(users.id, userId));
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
 * lower-cased; fails on a duplicate email), the membership if any (kept if it exists, with a
 * version bump: the person's object copies what D1 says), and `also` (e.g. invitations joined).
 */
export async function insertPersonInTeam(
  db: Db,
  rows: {
    newTeam?: NewTeam;
    newUser?: { id: string; email: string; name: string | null };
    membership?: NewMembership;
    also?: BatchItem<"sqlite">[];
  },
): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [];
  if (rows.newTeam) statements.push(db.insert(teams).values(rows.newTeam));
  const user = rows.newUser;
  if (user) {
    statements.push(
      db.insert(users).values({ id: user.id, kind: "human", email: user.email.toLowerCase(), name: user.name }),
    );
  }
  if (rows.membership) {
    statements.push(
      db.insert(memberships).values(rows.membership).onConflictDoNothing(),
      bumpMembershipVersion(db, rows.membership.userId),
    );
  }
  statements.push(...(rows.also ?? []));
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

/** A new name is a change of what the user's object holds: the version moves with it. */
export function updateUserName(db: Db, userId: string, name: string) {
  return db
    .update(users)
    .set({ name, membershipVersion: sql`${users.membershipVersion} + 1` })
    .where(eq(users.id, userId));
}

export function stampSignIn(db: Db, userId: string, now: number) {
  return db.update(users).set({ lastSignInAt: now }).where(eq(users.id, userId));
}
