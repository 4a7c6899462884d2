/**
 * The first tokens of a family whose code was just redeemed — an authorization code (RFC 6749
 * §4.1.3) or a device code (RFC 8628 §3.5): access token, the family's first refresh token, and an
 * ID token when openid was granted (OIDC Core §3.1.3.3).
 */
import type { FamilyGrant, HolderSnapshot } from "../../durable/user-grants";
import type { ClientRow } from "../../store/clients";
import type { GrantRoute } from "../../tokens/grant-tokens";
import { ceilingOf, identityClaims } from "../claims";
import { effectiveScopes } from "../scopes";
import type { GrantContext } from "./context";
import { issueTokens, type TokenResponse } from "./token-response";
import { touchUsage } from "./usage";

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
