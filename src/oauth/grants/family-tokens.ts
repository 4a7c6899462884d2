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
): Promise<TokenResponse> {
  const { grant } = result;
  // Who authorized and their role, as the authorization (or the device approval) read them at most
  // a code's lifetime ago: no D1 read here.
  const holder = {
    user: { email: result.holder.email, name: result.holder.name },
    membership: { teamId: grant.teamId, role: result.holder.role, onCallRole: result.holder.onCallRole },
  };

  touchUsage(ctx, client.id, now);
  const scopes = effectiveScopes(grant.scopes, ceilingOf(holder.membership, client.scopes));
  return issueTokens(ctx, {
    client,
    sub: route.userId,
    teamId: grant.teamId,
    audience: grant.resource ?? ctx.settings.defaultAudience,
    scopes,
    familyId: grant.familyId,
    refreshToken,
    idToken: {
      nonce: grant.nonce,
      authTime: grant.authTime,
      claims: identityClaims(holder.user, holder.membership, scopes),
    },
  });
}
