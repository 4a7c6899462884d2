/**
 * The UserInfo use case (OIDC Core §5.3): the claims a live access token releases, or why it
 * releases none. Its path is the hot one of gateways: verify the JWT locally, then one call to the
 * holder's UserGrants object (revocation and the holder's current roles and claims), no D1 read.
 */
import { identityClaims } from "./claims";
import { isAudienceOf } from "./resource";
import { accessTokenStatus, type StatusContext } from "./token-status";

export type UserinfoResult =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; error: "invalid_token" | "insufficient_scope"; description: string };

export async function userinfoClaims(ctx: StatusContext, token: string): Promise<UserinfoResult> {
  const status = await accessTokenStatus(ctx, token);
  if (!status)
    return { ok: false, error: "invalid_token", description: "the access token is invalid, expired or revoked" };
  // OIDC Core §5.3: userinfo is for tokens that carry the openid scope.
  if (!status.scopes.includes("openid")) {
    return { ok: false, error: "insufficient_scope", description: "the access token lacks the openid scope" };
  }
  // RFC 9068 §4: a token issued for another resource is not a UserInfo token.
  if (!isAudienceOf(status.aud, ctx.settings.issuer)) {
    return { ok: false, error: "invalid_token", description: "the access token is not for this server (aud)" };
  }
  return { ok: true, claims: { sub: status.sub, ...identityClaims(status.user, status.membership, status.scopes) } };
}
