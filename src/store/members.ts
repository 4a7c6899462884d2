/**
 * The people of a team (D1 `memberships` joined with `users`) and the two changes admins make to
 * them. Both changes are one D1 batch (a transaction) that also bumps the person's
 * `membership_version`; the last-admin rule is re-checked inside the statement itself, so two admins
 * demoting each other at the same moment cannot leave a team without one.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import { clients, consents, memberships, sessions, tokenFamilies, users } from "./schema";
import { bumpMembershipVersion } from "./users";

export interface TeamMember {
  userId: string;
  email: string | null;
  name: string | null;
  role: string;
  onCallRole: string;
  lastSignInAt: number | null;
  /** Apps that can act for the person: consented, or holding live tokens (automatic consent). */
  connectedApps: number;
}

/** People only: an app's service user is managed with its app. */
export function listTeamMembers(db: Db, teamId: string): Promise<TeamMember[]> {
  return db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      role: memberships.role,
      onCallRole: memberships.onCallRole,
      lastSignInAt: users.lastSignInAt,
      // As /settings/connected-apps lists them: apps allowed on the consent page, and apps holding
      // live tokens of the person without a consent (automatic consent).
      connectedApps: sql<number>`(SELECT count(*) FROM (
        SELECT ${consents.clientId} FROM ${consents} WHERE ${consents.userId} = ${users.id}
        UNION SELECT ${tokenFamilies.clientId} FROM ${tokenFamilies}
          WHERE ${tokenFamilies.userId} = ${users.id} AND ${tokenFamilies.revokedAt} IS NULL))`,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.teamId, teamId), eq(users.kind, "human")))
    .orderBy(asc(users.email))
    .all();
}

export async function getTeamMember(db: Db, teamId: string, userId: string): Promise<TeamMember | undefined> {
  if (userId.length > 200) return undefined;
  const [member] = (await listTeamMembers(db, teamId)).filter((m) => m.userId === userId);
  return member;
}

export async function countAdmins(db: Db, teamId: string): Promise<number> {
  const row = await db
    .select({ n: sql<number>`count(*)` })
    .from(memberships)
    .where(and(eq(memberships.teamId, teamId), eq(memberships.role, "admin")))
    .get();
  return Number(row?.n ?? 0);
}

/** True when the team keeps another admin besides `userId` (evaluated inside the writing statement). */
const anotherAdmin = (teamId: string, userId: string) =>
  sql`EXISTS (SELECT 1 FROM ${memberships} m2 WHERE m2.team_id = ${teamId} AND m2.role = 'admin' AND m2.user_id != ${userId})`;

/** Sets both roles; false when the person is not in the team or the change would leave it without an admin. */
export async function updateMemberRoles(
  db: Db,
  teamId: string,
  userId: string,
  roles: { role: string; onCallRole: string },
): Promise<boolean> {
  const keepsAdmin =
    roles.role === "admin" ? sql`1` : sql`(${memberships.role} != 'admin' OR ${anotherAdmin(teamId, userId)})`;
  const [updated] = await db.batch([
    db
      .update(memberships)
      .set({ role: roles.role, onCallRole: roles.onCallRole })
      .where(and(eq(memberships.userId, userId), eq(memberships.teamId, teamId), keepsAdmin))
      .returning({ userId: memberships.userId }),
    bumpMembershipVersion(db, userId),
  ]);
  return updated.length > 0;
}

/**
 * Takes the person out of the team: the membership, their consents to the team's apps and every
 * browser session they hold, in one transaction. False when they are not in the team or are its
 * last admin (then nothing changes).
 */
export async function deleteMember(db: Db, teamId: string, userId: string): Promise<boolean> {
  const stillMember = sql`EXISTS (SELECT 1 FROM ${memberships} WHERE ${memberships.userId} = ${userId} AND ${memberships.teamId} = ${teamId})`;
  const [deleted] = await db.batch([
    db
      .delete(memberships)
      .where(
        and(
          eq(memberships.userId, userId),
          eq(memberships.teamId, teamId),
          sql`(${memberships.role} != 'admin' OR ${anotherAdmin(teamId, userId)})`,
        ),
      )
      .returning({ userId: memberships.userId }),
    // The rest only when the delete happened (the membership is gone by now in this transaction).
    db
      .delete(consents)
      .where(
        and(
          eq(consents.userId, userId),
          sql`${consents.clientId} IN (SELECT ${clients.id} FROM ${clients} WHERE ${clients.teamId} = ${teamId})`,
          sql`NOT ${stillMember}`,
        ),
      ),
    db.delete(sessions).where(and(eq(sessions.userId, userId), sql`NOT ${stillMember}`)),
    bumpMembershipVersion(db, userId),
  ]);
  return deleted.length > 0;
}

/** A new member of the team (invitation accepted); an existing membership keeps its roles. */
export function joinTeam(db: Db, teamId: string, userId: string, roles: { role: string; onCallRole: string }) {
  return db
    .insert(memberships)
    .values({ userId, teamId, role: roles.role, onCallRole: roles.onCallRole })
    .onConflictDoNothing();
}
