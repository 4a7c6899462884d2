/**
 * Who a person is in edge-oidc once they have signed in: finds the user by email or provisions a
 * new one in the right team. An upstream organization (Google `hd`, Entra `tid`) maps to one team per
 * (upstream issuer, org id): its first user creates the team and becomes its admin, later users join
 * as member/responder. A person with no organization gets a personal team of their own. Dev sign-in
 * puts every new email in the Demo team. Invitations to the email come first: each live one makes
 * the person join its team with its roles (and a new person is then placed nowhere else). Only email
 * and name are kept. The caller publishes the result to the person's UserGrants object (holder.ts).
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { OnCallRole, Role } from "../oauth/scopes";
import type { Db } from "../store/db";
import { deleteInvitation, type InvitationRow, liveInvitationsFor } from "../store/invitations";
import { joinTeam } from "../store/members";
import {
  bumpMembershipVersion,
  findTeamByUpstreamOrg,
  getTeam,
  getUserByEmail,
  insertPersonInTeam,
  listMemberships,
  type NewTeam,
  type UserRow,
  updateUserName,
} from "../store/users";
import { randomToken } from "../tokens/secrets";

export const DEMO_TEAM_ID = "team_demo";

export interface Person {
  /** Lower-cased before it is stored or looked up. */
  email: string;
  name: string | null;
}

export interface SignedInPerson {
  user: UserRow;
  /** The team the sign-in is recorded in (the user's first team). */
  teamId: string;
  /** True when this sign-in created the user. */
  created: boolean;
  /** Invitations this sign-in used: the person joined their teams. */
  joined: InvitationRow[];
}

export interface UpstreamOrganization {
  /** The configured upstream issuer: together with `id` it names the team. */
  issuer: string;
  id: string;
  /** Name and primary domain for a new team; called only when the team does not exist yet. */
  describe: () => Promise<{ name: string; primaryDomain: string | null }>;
}

type Placement = { teamId: string; role: Role; onCallRole: OnCallRole; newTeam?: NewTeam };

const newId = (prefix: string) => `${prefix}_${randomToken(12)}`;

/** The person signed in through the upstream provider. */
export function provisionUpstreamUser(db: Db, person: Person, org: UpstreamOrganization | null) {
  return provision(db, person, { updateName: true }, async () => {
    if (!org) return personalTeam(person);
    const team = await findTeamByUpstreamOrg(db, org.issuer, org.id);
    if (team) return { teamId: team.id, role: "member", onCallRole: "responder" };
    const { name, primaryDomain } = await org.describe();
    const newTeam = { id: newId("team"), name, primaryDomain, upstreamIssuer: org.issuer, upstreamOrgId: org.id };
    return { teamId: newTeam.id, role: "admin", onCallRole: "admin", newTeam };
  });
}

/** Dev sign-in: known users are themselves; any other email joins Demo as member/responder. */
export function provisionDevUser(db: Db, person: Person) {
  return provision(db, person, { updateName: false }, async () => {
    const placement: Placement = { teamId: DEMO_TEAM_ID, role: "member", onCallRole: "responder" };
    if (await getTeam(db, DEMO_TEAM_ID)) return placement;
    return { ...placement, newTeam: { id: DEMO_TEAM_ID, name: "Demo", primaryDomain: "example.com" } };
  });
}

function personalTeam(person: Person): Placement {
  const owner = person.name?.trim() || person.email.split("@")[0] || person.email;
  const newTeam = { id: newId("team"), name: `${owner}'s team`, primaryDomain: null };
  return { teamId: newTeam.id, role: "admin", onCallRole: "admin", newTeam };
}

/**
 * Finds or creates the user; a user without a team is placed by `place`. The team, user and
 * membership are written in one D1 batch (one transaction), so a team never exists without its admin.
 * Two first sign-ins racing for the same organization or email: the loser's batch fails on a unique
 * index and the retry finds what the winner wrote.
 */
async function provision(
  db: Db,
  person: Person,
  options: { updateName: boolean },
  place: () => Promise<Placement>,
): Promise<SignedInPerson> {
  const email = person.email.toLowerCase();
  for (let attempt = 1; ; attempt++) {
    try {
      return await provisionOnce(db, { email, name: person.name }, options, place);
    } catch (err) {
      if (attempt >= 3 || !isUniqueViolation(err)) throw err;
    }
  }
}

async function provisionOnce(
  db: Db,
  person: Person,
  options: { updateName: boolean },
  place: () => Promise<Placement>,
): Promise<SignedInPerson> {
  let [user, invited] = await Promise.all([
    getUserByEmail(db, person.email),
    liveInvitationsFor(db, person.email, Date.now()),
  ]);
  if (user) {
    if (options.updateName && person.name && person.name !== user.name) {
      await updateUserName(db, user.id, person.name);
      user = { ...user, name: person.name };
    }
    const [first] = await listMemberships(db, user.id);
    if (first && invited.length === 0) return { user, teamId: first.teamId, created: false, joined: [] };
    if (first) {
      await db.batch(joinInvited(db, user.id, invited));
      return { user, teamId: first.teamId, created: false, joined: invited };
    }
  }
  // Invited: the invitations place the person. Otherwise the default placement.
  const placement = invited.length > 0 ? undefined : await place();
  const userId = user?.id ?? newId("usr");
  await insertPersonInTeam(db, {
    newTeam: placement?.newTeam,
    newUser: user ? undefined : { id: userId, email: person.email, name: person.name },
    membership: placement && {
      userId,
      teamId: placement.teamId,
      role: placement.role,
      onCallRole: placement.onCallRole,
    },
    also: joinInvited(db, userId, invited),
  });
  const created = !user;
  user ??= await getUserByEmail(db, person.email);
  if (!user) throw new Error("user vanished right after it was created");
  const teamId = placement?.teamId ?? (invited[0] as InvitationRow).teamId;
  return { user, teamId, created, joined: invited };
}

/** Joining the invitations' teams uses them up, in the same transaction, with a version bump. */
function joinInvited(
  db: Db,
  userId: string,
  invited: InvitationRow[],
): [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] {
  return [
    bumpMembershipVersion(db, userId),
    ...invited.flatMap((i) => [
      joinTeam(db, i.teamId, userId, { role: i.role, onCallRole: i.onCallRole }),
      deleteInvitation(db, i.id),
    ]),
  ];
}

function isUniqueViolation(err: unknown): boolean {
  const text = (e: unknown): string => (e instanceof Error ? `${e.message} ${text(e.cause)}` : "");
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(text(err));
}
