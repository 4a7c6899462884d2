/**
 * What a user may hold and what may be said about them: the permission ceiling of a membership and
 * the identity claims each scope releases (OIDC Core §5.4). Used by ID tokens, userinfo and
 * introspection alike.
 */
import type { MembershipRow, UserRow } from "../store/users";
import { isOnCallRole, isRole, roleCeiling } from "./scopes";

/**
 * What a token of this holder, issued to an app with `appScopes`, may carry now: the app's current
 * scopes ∩ the holder's current role ceiling. A service user (client_credentials) has no roles: its
 * ceiling is exactly its app's scopes. Every point that issues or reports a scope (authorization,
 * code exchange, refresh, introspection, UserInfo) intersects the granted scope with this, so
 * narrowing an app or a role takes effect at once.
 */
export function ceilingOf(
  membership: Pick<MembershipRow, "role" | "onCallRole">,
  appScopes: readonly string[],
): Set<string> {
  if (membership.role === "service") return new Set(appScopes);
  const role = isRole(membership.role) ? membership.role : "none";
  const onCall = isOnCallRole(membership.onCallRole) ? membership.onCallRole : "none";
  const roles = roleCeiling(role, onCall);
  return new Set(appScopes.filter((s) => roles.has(s)));
}

/** Claims released by the granted scopes: email (email); name, team_id, role, on_call_role (profile). */
export function identityClaims(
  user: Pick<UserRow, "email" | "name">,
  membership: Pick<MembershipRow, "teamId" | "role" | "onCallRole">,
  scopes: readonly string[],
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes("email") && user.email) {
    claims.email = user.email;
    // Only verified addresses are ever stored (upstream email_verified, or the local dev sign-in).
    claims.email_verified = true;
  }
  if (scopes.includes("profile")) {
    if (user.name) claims.name = user.name;
    claims.team_id = membership.teamId;
    claims.role = membership.role;
    claims.on_call_role = membership.onCallRole;
  }
  return claims;
}
