/**
 * The people of a team, for its admins: each person's two roles (a select each, saved with a plain
 * form: no JavaScript), last sign-in and connected apps, a link to remove them; open invitations
 * (withdrawable) and a form to invite someone by email.
 */
import { ON_CALL_ROLES, ROLES } from "../../oauth/scopes";
import type { TeamMember } from "../../store/members";
import { Moment } from "./format";
import { SettingsFrame } from "./frame";

export type MemberRowProps = TeamMember;

export interface InvitationRowProps {
  id: string;
  email: string;
  role: string;
  onCallRole: string;
  expiresAt: number;
}

export interface MembersPageProps {
  teamId: string;
  teamName: string;
  otherTeams: { teamId: string; teamName: string }[];
  members: MemberRowProps[];
  invitations: InvitationRowProps[];
  /** Who is looking: their own row says "you". */
  selfUserId: string;
  notice?: string;
  /** Why the last change was refused (a fixed sentence of the policy). */
  error?: string;
  csrf: string;
}

export const ROLE_LABELS: Record<string, string> = {
  admin: "Admin",
  member: "Member",
  observer: "Observer",
  none: "No access",
};
export const ON_CALL_ROLE_LABELS: Record<string, string> = {
  admin: "Admin",
  responder: "Responder",
  observer: "Observer",
  none: "No access",
};

export const membersPath = (teamId: string, rest = "") => `/settings/members${rest}?team=${encodeURIComponent(teamId)}`;

function RoleSelect(props: {
  id: string;
  name: string;
  label: string;
  options: readonly string[];
  labels: Record<string, string>;
  value: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        {props.options.map((o) => (
          <option value={o} selected={o === props.value}>
            {props.labels[o] ?? o}
          </option>
        ))}
      </select>
    </div>
  );
}

export function MembersPage(props: MembersPageProps) {
  return (
    <SettingsFrame title="Members" section="members" isAdmin notice={props.notice}>
      <h1>Members of {props.teamName}</h1>
      <p>A person's roles cap what every app they connect can do. A change applies to their existing tokens at once.</p>
      {props.otherTeams.length > 0 ? (
        <p>
          Other teams you manage:{" "}
          {props.otherTeams.map((t, i) => (
            <>
              {i > 0 ? ", " : ""}
              <a href={membersPath(t.teamId)}>{t.teamName}</a>
            </>
          ))}
        </p>
      ) : null}
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      <h2>{props.members.length === 1 ? "1 person" : `${props.members.length} people`}</h2>
      <ul class="card-list members">
        {props.members.map((m) => (
          <MemberCard member={m} teamId={props.teamId} csrf={props.csrf} self={m.userId === props.selfUserId} />
        ))}
      </ul>
      <h2 id="invite">Invite someone</h2>
      <p>They join {props.teamName} with these roles the next time they sign in with this email, within 7 days.</p>
      <form method="post" action={membersPath(props.teamId, "/invitations")} class="card invite">
        <input type="hidden" name="csrf" value={props.csrf} />
        <div class="field">
          <label for="invite-email">Email</label>
          <input id="invite-email" name="email" type="email" required autocomplete="off" />
        </div>
        <RoleSelect
          id="invite-role"
          name="role"
          label="Incident response role"
          options={ROLES}
          labels={ROLE_LABELS}
          value="member"
        />
        <RoleSelect
          id="invite-on-call-role"
          name="on_call_role"
          label="On-call role"
          options={ON_CALL_ROLES}
          labels={ON_CALL_ROLE_LABELS}
          value="responder"
        />
        <div class="actions">
          <button type="submit" class="primary">
            Invite
          </button>
        </div>
      </form>
      <h2>{props.invitations.length === 0 ? "No open invitations" : "Open invitations"}</h2>
      {props.invitations.length > 0 ? (
        <ul class="card-list invitations">
          {props.invitations.map((i) => (
            <li class="card">
              <h3>{i.email}</h3>
              <p>
                {ROLE_LABELS[i.role] ?? i.role} · on-call {ON_CALL_ROLE_LABELS[i.onCallRole] ?? i.onCallRole} · expires{" "}
                <Moment at={i.expiresAt} />
              </p>
              <form
                method="post"
                action={membersPath(props.teamId, `/invitations/${encodeURIComponent(i.id)}/withdraw`)}
              >
                <input type="hidden" name="csrf" value={props.csrf} />
                <button type="submit" aria-label={`Withdraw the invitation of ${i.email}`}>
                  Withdraw
                </button>
              </form>
            </li>
          ))}
        </ul>
      ) : null}
    </SettingsFrame>
  );
}

function MemberCard(props: { member: MemberRowProps; teamId: string; csrf: string; self: boolean }) {
  const m = props.member;
  const who = m.email ?? m.name ?? m.userId;
  const key = m.userId.replace(/[^\w-]/g, "_");
  return (
    <li class="card">
      <h3>
        {m.name ?? who}
        {props.self ? " (you)" : ""}
      </h3>
      {m.name && m.email ? <p class="muted">{m.email}</p> : null}
      <dl class="facts">
        <dt>Last sign-in</dt>
        <dd>
          <Moment at={m.lastSignInAt} never="Not yet" />
        </dd>
        <dt>Connected apps</dt>
        <dd>{m.connectedApps}</dd>
      </dl>
      <form method="post" action={membersPath(props.teamId)} aria-label={`Roles of ${who}`}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="user_id" value={m.userId} />
        <RoleSelect
          id={`role-${key}`}
          name="role"
          label="Incident response role"
          options={ROLES}
          labels={ROLE_LABELS}
          value={m.role}
        />
        <RoleSelect
          id={`on-call-${key}`}
          name="on_call_role"
          label="On-call role"
          options={ON_CALL_ROLES}
          labels={ON_CALL_ROLE_LABELS}
          value={m.onCallRole}
        />
        <div class="actions">
          <button type="submit" aria-label={`Save roles of ${who}`}>
            Save roles
          </button>
          <a
            class="button danger"
            href={membersPath(props.teamId, `/${encodeURIComponent(m.userId)}/remove`)}
            aria-label={`Remove ${who}`}
          >
            Remove
          </a>
        </div>
      </form>
    </li>
  );
}
