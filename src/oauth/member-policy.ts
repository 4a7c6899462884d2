/**
 * Who may do what to a team's people: the one policy behind the members page, the /api/admin
 * members and invitations endpoints and `npm run admin`. Pure functions: values in, a value out or
 * an OAuthError.
 *   - Only an admin of the team (or the operator) acts on it. A member or observer is refused (403,
 *     by the surface's admin check); an admin of another team is told the person does not exist
 *     (404), so teams cannot probe each other.
 *   - Roles come from the one catalog (scopes.ts); an app's service user is not a person here.
 *   - The last admin of a team can be neither demoted nor removed (the store re-checks it inside the
 *     writing statement, so concurrent changes cannot get around it).
 */
import type { AdminActor } from "./admin-apps";
import { OAuthError } from "./errors";
import { isOnCallRole, isRole, ON_CALL_ROLES, type OnCallRole, ROLES, type Role } from "./scopes";

export interface MemberRoles {
  role: Role;
  onCallRole: OnCallRole;
}

/** Invitations are good for 7 days. */
export const INVITATION_TTL_MS = 7 * 24 * 3600_000;

export const LAST_ADMIN = "a team must keep at least one admin: make someone else admin first";

/** The team's people are the actor's to manage, else 404 (never reveal another team). */
export function requireTeamAdmin(actor: AdminActor, teamId: string): void {
  if (actor.teams !== "all" && !actor.teams.includes(teamId)) throw new OAuthError("not_found", "no such team");
}

/** The person, if they are a person of that team; else 404. */
export function requireMember<T extends { role: string }>(member: T | undefined): T {
  if (!member || member.role === "service") throw new OAuthError("not_found", "no such member");
  return member;
}

/** Both roles of a change or an invitation; each must be one of the catalog's roles. */
export function parseRoles(input: { role?: unknown; on_call_role?: unknown }, current?: MemberRoles): MemberRoles {
  const role = input.role ?? current?.role;
  const onCallRole = input.on_call_role ?? current?.onCallRole;
  if (!isRole(role)) throw new OAuthError("invalid_request", `role must be one of ${ROLES.join(", ")}`);
  if (!isOnCallRole(onCallRole)) {
    throw new OAuthError("invalid_request", `on_call_role must be one of ${ON_CALL_ROLES.join(", ")}`);
  }
  return { role, onCallRole };
}

/** A role change: the last admin keeps the admin role. */
export function checkRoleChange(target: { role: string }, next: MemberRoles, adminCount: number): void {
  if (target.role === "admin" && next.role !== "admin" && adminCount <= 1) {
    throw new OAuthError("invalid_request", LAST_ADMIN, { status: 409 });
  }
}

/** A removal: the last admin stays. */
export function checkRemoval(target: { role: string }, adminCount: number): void {
  if (target.role === "admin" && adminCount <= 1) throw new OAuthError("invalid_request", LAST_ADMIN, { status: 409 });
}

/** An email to invite: trimmed, lower-cased, one plain address. */
export function parseInviteEmail(value: unknown): string {
  const email = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (email.length > 254 || !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email)) {
    throw new OAuthError("invalid_request", "email must be an email address such as name@example.com");
  }
  return email;
}

/** Someone already in the team is not invited again: change their roles instead. */
export function checkInvitee(alreadyMember: boolean): void {
  if (alreadyMember) {
    throw new OAuthError("invalid_request", "that person is already in the team: change their roles instead", {
      status: 409,
    });
  }
}
