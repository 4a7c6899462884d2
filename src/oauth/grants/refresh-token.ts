/** grant_type=refresh_token with rotation, a grace window and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2). */
import { userGrants } from "../../durable/stub";
import type { ClientRow } from "../../store/clients";
import { readGrantToken, successorGrantToken } from "../../tokens/grant-tokens";
import { sha256 } from "../../tokens/secrets";
import { ceilingOf } from "../claims";
import { OAuthError } from "../errors";
import { DEVICE_CODE_GRANT_TYPE } from "../grant-types";
import { resolveResource } from "../resource";
import { effectiveScopes, expandMetaScopes, intersectScopes, isMetaScope, parseRequestedScopes } from "../scopes";
import type { GrantContext } from "./context";
import { type GrantProof, proofBinding, proofFailure } from "./dpop-binding";
import { issueTokens, type TokenResponse } from "./token-response";
import { reportRevokedFamily, touchUsage } from "./usage";

export async function refreshTokens(
  ctx: GrantContext,
  client: ClientRow,
  form: Record<string, string>,
  proof?: GrantProof,
): Promise<TokenResponse> {
  // Families start from an authorization code or a device code (RFC 8628 §3.5 issues refresh tokens too).
  if (!["refresh_token", "authorization_code", DEVICE_CODE_GRANT_TYPE].some((g) => client.grantTypes.includes(g))) {
    throw new OAuthError("unauthorized_client", "this client may not use the refresh_token grant");
  }
  const presented = form.refresh_token;
  if (!presented) throw new OAuthError("invalid_request", "refresh_token is required");
  const requested = parseRequestedScopes(form.scope);
  // RFC 6749 §6: a narrower scope, never a wider one. Clients resend the scope they first asked
  // for, meta scopes included: a meta scope stands for what the grant holds within it.
  const named = requested.filter((s) => !isMetaScope(s));
  const withinMeta = expandMetaScopes(requested.filter(isMetaScope));
  const requestedAudience = form.resource === undefined ? undefined : resolveResource(ctx.settings, form.resource);

  const route = await readGrantToken(ctx.settings, "refresh", presented);
  if (!route) throw new OAuthError("invalid_grant", "refresh token is invalid");

  // The successor is derived before the call (the same one for every retry of this token), so the
  // object stays a pure, synchronous transition and never holds a token.
  const successor = await successorGrantToken(ctx.settings, presented, route);
  const now = Date.now();
  // One call: the rotation and the holder's current membership in the grant's team (no D1 read).
  // Every refresh goes through the binding check: a DPoP-bound family needs its key (RFC 9449 §5).
  const result = await userGrants(ctx.env, route.userId).rotateRefreshWithProof(
    {
      tokenHash: await sha256(presented),
      clientId: client.id,
      successorHash: await sha256(successor),
      successorExpiresAt: now + ctx.settings.refreshTokenTtl * 1000,
      graceMs: ctx.settings.refreshGraceSeconds * 1000,
      requestedScopes: named,
      scopesWithinMeta: withinMeta,
      requestedAudience,
      defaultAudience: ctx.settings.defaultAudience,
      clientRevokedBefore: client.revokedBefore,
      now,
    },
    proof ? proofBinding(proof, client) : null,
  );
  if (!result.ok) {
    if (result.error === "invalid_dpop_proof") throw proofFailure(result.description);
    if (result.revokedFamily) reportRevokedFamily(ctx, route.userId, result.revokedFamily, "refresh.reuse_detected");
    throw new OAuthError(result.error, result.description);
  }
  const { grant, holder } = result;

  // RFC 6749 §6: a narrower scope (checked by the object) for this access token only.
  const granted = requested.length > 0 ? intersectScopes(grant.scopes, [...named, ...withinMeta]) : grant.scopes;
  const audience = grant.resource ?? ctx.settings.defaultAudience;
  touchUsage(ctx, client.id, now);
  const scopes = effectiveScopes(granted, ceilingOf(holder, client.scopes));
  return issueTokens(ctx, {
    client,
    sub: route.userId,
    teamId: grant.teamId,
    audience,
    scopes,
    familyId: grant.familyId,
    // A retry inside the grace window gets what the first call issued: the same derived successor.
    refreshToken: successor,
    dpopJkt: proof?.jkt,
    // OIDC Core §12.2: the refresh response "might not contain an id_token". It does not: the
    // client already has one from the code exchange, and an RSA signature per refresh is the
    // largest single cost on this path (userinfo serves current claims).
  });
}
