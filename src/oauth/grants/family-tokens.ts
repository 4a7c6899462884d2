/**
 * The first tokens of a family whose code was just redeemed — an authorization code (RFC 6749
 * §4.1.3) or a device code (RFC 8628 §3.5): access token, the family's first refresh token, and an
 * ID token when openid was granted (OIDC Core §3.1.3.3).
 */
import type { FamilyGrant, HolderSnapshot, ProofFailure, RedeemResult } from "../../durable/user-grants";
import type { ClientRow } from "../../store/clients";
import type { GrantRoute } from "../../tokens/grant-tokens";
import { sha256 } from "../../tokens/secrets";
import { ceilingOf, identityClaims } from "../claims";
import { OAuthError } from "../errors";
import { effectiveScopes } from "../scopes";
import type { GrantContext } from "./context";
import { type GrantProof, proofFailure } from "./dpop-binding";
import { issueTokens, type TokenResponse } from "./token-response";
import { reportRevokedFamily, touchUsage } from "./usage";

export async function firstTokensOfFamily(
  ctx: GrantContext,
  client: ClientRow,
  route: GrantRoute,
  result: { grant: FamilyGrant; holder: HolderSnapshot },
  refreshToken: string,
  now: number,
  /** RFC 9449 §6: the DPoP key the access token is bound to, if the request carried a proof. */
  dpopJkt?: string,
): Promise<TokenResponse> {
  // The holder's membership now, from the same object and call (docs/architecture.md): no D1 read.
  const { grant, holder } = result;
  const membership = { teamId: grant.teamId, role: holder.role, onCallRole: holder.onCallRole };

  touchUsage(ctx, client.id, now);
  const scopes = effectiveScopes(grant.scopes, ceilingOf(membership, client.scopes));
  return issueTokens(ctx, {
    client,
    sub: route.userId,
    teamId: grant.teamId,
    audience: grant.resource ?? ctx.settings.defaultAudience,
    scopes,
    familyId: grant.familyId,
    refreshToken,
    dpopJkt,
    idToken: {
      nonce: grant.nonce,
      authTime: grant.authTime,
      claims: identityClaims(holder, membership, scopes),
    },
  });
}

/**
 * The answer to a redemption of an authorization code or a device code: the OAuth error (a replay
 * reported, since it revoked the family) or the family's first tokens, bound to the proof's key.
 */
export function answerRedemption(
  ctx: GrantContext,
  client: ClientRow,
  route: GrantRoute,
  result: RedeemResult | ProofFailure,
  tokens: { refreshToken: string; now: number; proof: GrantProof | undefined; codeName: string },
): Promise<TokenResponse> {
  if (!result.ok) {
    if (result.error === "invalid_dpop_proof") throw proofFailure(result.description);
    if (result.revokedFamily) reportRevokedFamily(ctx, route.userId, result.revokedFamily, "code.replay_detected");
    throw new OAuthError(result.error, result.description.replace("authorization code", tokens.codeName));
  }
  return firstTokensOfFamily(ctx, client, route, result, tokens.refreshToken, tokens.now, tokens.proof?.jkt);
}

/**
 * What a redemption of either kind of code asks of the holder's object besides the code: the
 * family's first refresh token (hash only), the audience checks (RFC 8707) and the client's
 * "revoke every token" stamp.
 */
export async function redemptionTerms(
  ctx: GrantContext,
  client: ClientRow,
  refreshToken: string,
  requestedAudience: string | undefined,
  now: number,
) {
  return {
    clientId: client.id,
    refreshHash: await sha256(refreshToken),
    refreshExpiresAt: now + ctx.settings.refreshTokenTtl * 1000,
    requestedAudience,
    defaultAudience: ctx.settings.defaultAudience,
    clientRevokedBefore: client.revokedBefore,
    now,
  };
}
