/**
 * Use cases of team membership administration, shared by the members page, the JSON admin API and
 * `npm run admin`: list people and invitations, change someone's roles, remove someone, invite by
 * email, withdraw an invitation. Rules come from member-policy.ts. Every change is made in D1 (the
 * record), published to the person's UserGrants object before it returns (so their existing tokens
 * feel it at the next request: holder.ts), and audited (who, whom, from → to).
 */
import type { Env } from "../config";
import { recordAudit } from "../store/audit";
import { dbOf } from "../store/db";
import {
  deleteInvitation,
  getInvitation,
  type InvitationRow,
  liveInvitationsOfTeam,
  upsertInvitation,
} from "../store/invitations";
import {
  countAdmins,
  deleteMember,
  getTeamMember,
  listTeamMembers,
  type TeamMember,
  updateMemberRoles,
} from "../store/members";
import { getTeam, getUserByEmail } from "../store/users";
import { randomToken } from "../tokens/secrets";
import type { AdminActor } from "./admin-apps";
import { OAuthError } from "./errors";
import { expectHolderChange, publishHolder } from "./holder";
import {
  checkInvitee,
  checkRemoval,
  checkRoleChange,
  INVITATION_TTL_MS,
  LAST_ADMIN,
  parseInviteEmail,
  parseRoles,
  requireMember,
  requireTeamAdmin,
} from "./member-policy";

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

export function memberView(m: TeamMember): Record<string, unknown> {
  return {
    user_id: m.userId,
    email: m.email,
    name: m.name,
    role: m.role,
    on_call_role: m.onCallRole,
    last_sign_in_at: iso(m.lastSignInAt),
    connected_apps: Number(m.connectedApps),
  };
}

export function invitationView(i: InvitationRow): Record<string, unknown> {
  return {
    id: i.id,
    team_id: i.teamId,
    email: i.email,
    role: i.role,
    on_call_role: i.onCallRole,
    invited_by: i.invitedBy,
    created_at: iso(i.createdAt),
    expires_at: iso(i.expiresAt),
  };
}

/**
 * The team a members request acts on: the one named (which the actor must administer, else 404), or
 * the only team a person administers. The operator always names it.
 */
export async function memberTeam(env: Env, actor: AdminActor, requested: unknown): Promise<string> {
  if (requested !== undefined && requested !== "" && (typeof requested !== "string" || requested.length > 200)) {
    throw new OAuthError("invalid_request", "team_id must be a string");
  }
  if (typeof requested === "string" && requested) {
    requireTeamAdmin(actor, requested);
    if (actor.teams === "all" && !(await getTeam(dbOf(env.DB), requested))) {
      throw new OAuthError("not_found", "no such team");
    }
    return requested;
  }
  if (actor.teams === "all") throw new OAuthError("invalid_request", "team_id is required with the admin API token");
  if (actor.teams.length !== 1) throw new OAuthError("invalid_request", "you administer several teams: name team_id");
  return actor.teams[0] as string;
}

export async function listMembers(
  env: Env,
  actor: AdminActor,
  teamId: string,
): Promise<{ members: TeamMember[]; invitations: InvitationRow[] }> {
  requireTeamAdmin(actor, teamId);
  const db = dbOf(env.DB);
  const [members, invitations] = await Promise.all([
    listTeamMembers(db, teamId),
    liveInvitationsOfTeam(db, teamId, Date.now()),
  ]);
  return { members, invitations };
}

async function findMember(env: Env, actor: AdminActor, teamId: string, userId: string): Promise<TeamMember> {
  requireTeamAdmin(actor, teamId);
  return requireMember(await getTeamMember(dbOf(env.DB), teamId, userId));
}

/** New roles for a person; in effect for their existing tokens before this returns. */
export async function changeMemberRoles(
  env: Env,
  actor: AdminActor,
  teamId: string,
  userId: string,
  input: Record<string, unknown>,
): Promise<TeamMember> {
  const unknown = Object.keys(input).find((k) => k !== "role" && k !== "on_call_role" && k !== "team_id");
  if (unknown !== undefined)
    throw new OAuthError("invalid_request", `unknown field ${JSON.stringify(unknown.slice(0, 40))}`);
  const db = dbOf(env.DB);
  const member = await findMember(env, actor, teamId, userId);
  const current = parseRoles({ role: member.role, on_call_role: member.onCallRole });
  const next = parseRoles(input, current);
  if (next.role === current.role && next.onCallRole === current.onCallRole) return member;
  checkRoleChange(member, next, await countAdmins(db, teamId));
  await expectHolderChange(env, userId);
  const changed = await updateMemberRoles(db, teamId, userId, next);
  await publishHolder(env, userId, { settles: true });
  if (!changed) await refusedWrite(env, teamId, userId);
  await audit(env, actor, "member.role_changed", teamId, member, {
    from: { role: current.role, on_call_role: current.onCallRole },
    to: { role: next.role, on_call_role: next.onCallRole },
  });
  return { ...member, role: next.role, onCallRole: next.onCallRole };
}

/**
 * Takes a person out of the team. Before this returns: their membership, consents to the team's apps
 * and browser sessions are gone (D1), and every token family they hold in the team is revoked in
 * their object, whose tombstone also refuses their access tokens of the team.
 */
export async function removeMember(env: Env, actor: AdminActor, teamId: string, userId: string): Promise<void> {
  const db = dbOf(env.DB);
  const member = await findMember(env, actor, teamId, userId);
  checkRemoval(member, await countAdmins(db, teamId));
  await expectHolderChange(env, userId);
  const removed = await deleteMember(db, teamId, userId);
  await publishHolder(env, userId, { settles: true });
  if (!removed) await refusedWrite(env, teamId, userId);
  await audit(env, actor, "member.removed", teamId, member, {
    from: { role: member.role, on_call_role: member.onCallRole },
  });
}

/** The guarded statement changed nothing: the person left meanwhile (404) or is now the last admin. */
async function refusedWrite(env: Env, teamId: string, userId: string): Promise<never> {
  requireMember(await getTeamMember(dbOf(env.DB), teamId, userId));
  throw new OAuthError("invalid_request", LAST_ADMIN, { status: 409 });
}

/** Invites an email into the team with both roles; used at their next sign-in, within 7 days. */
export async function inviteMember(
  env: Env,
  actor: AdminActor,
  teamId: string,
  input: Record<string, unknown>,
): Promise<InvitationRow> {
  const unknown = Object.keys(input).find((k) => !["email", "role", "on_call_role", "team_id"].includes(k));
  if (unknown !== undefined)
    throw new OAuthError("invalid_request", `unknown field ${JSON.stringify(unknown.slice(0, 40))}`);
  requireTeamAdmin(actor, teamId);
  const email = parseInviteEmail(input.email);
  const roles = parseRoles(input);
  const db = dbOf(env.DB);
  const existing = await getUserByEmail(db, email);
  checkInvitee(existing ? (await getTeamMember(db, teamId, existing.id)) !== undefined : false);
  const now = Date.now();
  const invitation = await upsertInvitation(db, {
    id: `inv_${randomToken(12)}`,
    teamId,
    email,
    role: roles.role,
    onCallRole: roles.onCallRole,
    invitedBy: actor.userId,
    createdAt: now,
    expiresAt: now + INVITATION_TTL_MS,
  });
  await audit(env, actor, "member.invited", teamId, null, {
    email,
    invitation_id: invitation.id,
    to: { role: roles.role, on_call_role: roles.onCallRole },
  });
  return invitation;
}

/** Withdraws an invitation of a team the actor administers; anything else is 404. */
export async function withdrawInvitation(env: Env, actor: AdminActor, invitationId: string): Promise<InvitationRow> {
  const db = dbOf(env.DB);
  const invitation = invitationId.length <= 200 ? await getInvitation(db, invitationId) : undefined;
  if (!invitation) throw new OAuthError("not_found", "no such invitation");
  requireTeamAdmin(actor, invitation.teamId);
  await deleteInvitation(db, invitation.id);
  await audit(env, actor, "member.invitation_withdrawn", invitation.teamId, null, {
    email: invitation.email,
    invitation_id: invitation.id,
  });
  return invitation;
}

function audit(
  env: Env,
  actor: AdminActor,
  kind: "member.role_changed" | "member.removed" | "member.invited" | "member.invitation_withdrawn",
  teamId: string,
  whom: TeamMember | null,
  detail: Record<string, unknown>,
): Promise<void> {
  const subject = whom ? { user_id: whom.userId, email: whom.email } : {};
  return recordAudit(dbOf(env.DB), {
    kind,
    teamId,
    actorUserId: actor.userId,
    detail: { ...subject, ...detail, ...(actor.userId === null ? { via: "admin_api_token" } : {}) },
  });
}
