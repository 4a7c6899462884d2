/**
 * The team's people, for team admins (`?team=` picks one of several teams):
 *   GET  /settings/members                                   people, invitations, the invite form
 *   POST /settings/members                                   (user_id, role, on_call_role) new roles
 *   GET|POST /settings/members/:userId/remove                confirm | remove
 *   POST /settings/members/invitations                       (email, role, on_call_role) invite
 *   POST /settings/members/invitations/:id/withdraw          withdraw
 * Every change is a use case of src/oauth/team-members.ts, under the policy of member-policy.ts.
 */
import { OAuthError } from "../../oauth/errors";
import {
  changeMemberRoles,
  inviteMember,
  listMembers,
  memberTeam,
  removeMember,
  withdrawInvitation,
} from "../../oauth/team-members";
import { renderPage } from "../../pages/render";
import { ConfirmPage } from "../../pages/settings/confirm";
import { MembersPage, membersPath } from "../../pages/settings/members";
import { dbOf } from "../../store/db";
import { getTeamMember } from "../../store/members";
import { csrfToken } from "../session";
import type { SettingsContext } from "./access";
import { pageTeam, refusalPage } from "./app-views";

const NOTICES: Record<string, string> = {
  roles: "The roles were saved. They already apply to that person's apps.",
  removed: "The person was removed. Their apps and sessions in this team stopped working at once.",
  invited: "The invitation was sent. It works for 7 days.",
  withdrawn: "The invitation was withdrawn.",
};

/** The team of this page: the one asked for (which must be the person's to manage, else 404), else their first. */
const team = (c: SettingsContext) => pageTeam(c, c.req.query("team"), memberTeam);

/** A refusal as a page: 404 for what is not the person's to see, else the policy's sentence. */
const refusedPage = (c: SettingsContext, error: unknown): Response =>
  refusalPage(
    c,
    error,
    { title: "Not found", message: "There is no such person or invitation in the teams you manage." },
    { href: "/settings/members", label: "Back to members" },
  );

async function guarded(c: SettingsContext, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (e) {
    return refusedPage(c, e);
  }
}

export const showMembers = (c: SettingsContext) =>
  guarded(c, async () => {
    const t = await team(c);
    const { members, invitations } = await listMembers(c.env, c.get("actor"), t.teamId);
    return renderPage(
      c,
      MembersPage({
        ...t,
        members: members.map((m) => ({ ...m, connectedApps: Number(m.connectedApps) })),
        invitations,
        selfUserId: c.get("session").user.id,
        notice: NOTICES[c.req.query("done") ?? ""],
        csrf: csrfToken(c),
      }),
    );
  });

export const changeRolesFromForm = (c: SettingsContext) =>
  guarded(c, async () => {
    const { teamId } = await team(c);
    const form = c.get("form");
    await changeMemberRoles(c.env, c.get("actor"), teamId, form.get("user_id") ?? "", {
      role: form.get("role"),
      on_call_role: form.get("on_call_role"),
    });
    return c.redirect(`${membersPath(teamId)}&done=roles`, 303);
  });

export const confirmRemoval = (c: SettingsContext) =>
  guarded(c, async () => {
    const { teamId, teamName } = await team(c);
    const member = await getTeamMember(dbOf(c.env.DB), teamId, c.req.param("userId") ?? "");
    if (!member || member.role === "service") throw new OAuthError("not_found", "no such member");
    const who = member.email ?? member.name ?? member.userId;
    return renderPage(
      c,
      ConfirmPage({
        title: `Remove ${who} from ${teamName}?`,
        consequences: [
          `${who} leaves ${teamName}: every app they connected stops working for them at once, and they are signed out.`,
          "Their permissions for the team's apps are deleted. To bring them back, invite them again.",
        ],
        action: membersPath(teamId, `/${encodeURIComponent(member.userId)}/remove`),
        button: `Remove ${who}`,
        cancel: membersPath(teamId),
        csrf: csrfToken(c),
        section: "members",
      }),
    );
  });

export const removeFromForm = (c: SettingsContext) =>
  guarded(c, async () => {
    const { teamId } = await team(c);
    await removeMember(c.env, c.get("actor"), teamId, c.req.param("userId") ?? "");
    return c.redirect(`${membersPath(teamId)}&done=removed`, 303);
  });

export const inviteFromForm = (c: SettingsContext) =>
  guarded(c, async () => {
    const { teamId } = await team(c);
    const form = c.get("form");
    await inviteMember(c.env, c.get("actor"), teamId, {
      email: form.get("email"),
      role: form.get("role"),
      on_call_role: form.get("on_call_role"),
    });
    return c.redirect(`${membersPath(teamId)}&done=invited`, 303);
  });

export const withdrawFromForm = (c: SettingsContext) =>
  guarded(c, async () => {
    const invitation = await withdrawInvitation(c.env, c.get("actor"), c.req.param("id") ?? "");
    return c.redirect(`${membersPath(invitation.teamId)}&done=withdrawn`, 303);
  });
