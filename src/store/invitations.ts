/** Invitations to join a team (D1 `invitations`): used up at the invitee's next sign-in, or withdrawn. */
import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "./db";
import { invitations } from "./schema";

export type InvitationRow = typeof invitations.$inferSelect;

/** One invitation per (team, email): inviting again replaces the roles and restarts the clock. */
export async function upsertInvitation(db: Db, row: InvitationRow): Promise<InvitationRow> {
  const saved = await db
    .insert(invitations)
    .values(row)
    .onConflictDoUpdate({
      target: [invitations.teamId, invitations.email],
      set: {
        role: row.role,
        onCallRole: row.onCallRole,
        invitedBy: row.invitedBy,
        createdAt: row.createdAt,
        expiresAt: row.expiresAt,
      },
    })
    .returning()
    .get();
  return saved ?? row;
}

export function liveInvitationsOfTeam(db: Db, teamId: string, now: number): Promise<InvitationRow[]> {
  return db
    .select()
    .from(invitations)
    .where(and(eq(invitations.teamId, teamId), gt(invitations.expiresAt, now)))
    .orderBy(asc(invitations.createdAt))
    .all();
}

export function liveInvitationsFor(db: Db, email: string, now: number): Promise<InvitationRow[]> {
  return db
    .select()
    .from(invitations)
    .where(and(eq(invitations.email, email.toLowerCase()), gt(invitations.expiresAt, now)))
    .orderBy(asc(invitations.createdAt))
    .all();
}

export function getInvitation(db: Db, id: string): Promise<InvitationRow | undefined> {
  return db.select().from(invitations).where(eq(invitations.id, id)).get();
}

export function deleteInvitation(db: Db, id: string) {
  return db.delete(invitations).where(eq(invitations.id, id));
}
