/** grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6, OIDC Core §3.1.3). */
import { userGrants } from "../../durable/stub";
import type { ClientRow } from "../../store/clients";
import { mintGrantToken, readGrantToken } from "../../tokens/grant-tokens";
import { sha256 } from "../../tokens/secrets";
import { OAuthError } from "../errors";
import { isValidCodeVerifier } from "../pkce";
import { resolveResource } from "../resource";
import type { GrantContext } from "./context";
import { type GrantProof, proofBinding } from "./dpop-binding";
import { answerRedemption, redemptionTerms } from "./family-tokens";
import type { TokenResponse } from "./token-response";

export async function exchangeAuthorizationCode(
  ctx: GrantContext,
  client: ClientRow,
  form: Record<string, string>,
  proof?: GrantProof,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes("authorization_code")) {
    throw new OAuthError("unauthorized_client", "this client may not use the authorization_code grant");
  }
  const code = form.code;
  const verifier = form.code_verifier;
  if (!code) throw new OAuthError("invalid_request", "code is required");
  // RFC 7636 §4.5 + OAuth 2.1: every client uses PKCE, so a verifier is always required.
  if (!verifier) throw new OAuthError("invalid_request", "code_verifier is required (PKCE)");
  if (!isValidCodeVerifier(verifier))
    throw new OAuthError("invalid_grant", "code_verifier is malformed (RFC 7636 §4.1)");

  const route = await readGrantToken(ctx.settings, "code", code);
  if (!route) throw new OAuthError("invalid_grant", "authorization code is invalid");

  const requestedAudience = form.resource === undefined ? undefined : resolveResource(ctx.settings, form.resource);
  const refreshToken = await mintGrantToken(ctx.settings, "refresh", route);
  const now = Date.now();
  const redemption = {
    ...(await redemptionTerms(ctx, client, refreshToken, requestedAudience, now)),
    codeHash: await sha256(code),
    redirectUri: form.redirect_uri ?? null, // required only if the authorization request had it
    // RFC 7636 §4.6: S256 challenge = BASE64URL(SHA256(code_verifier)).
    verifierChallenge: await sha256(verifier),
  };
  const grants = userGrants(ctx.env, route.userId);
  // With DPoP the proof's jti is spent in the same call (RFC 9449 §11.1); without it, nothing changes.
  const result = proof
    ? await grants.redeemCodeWithProof(redemption, proofBinding(proof, client))
    : await grants.redeemCode(redemption);
  return answerRedemption(ctx, client, route, result, { refreshToken, now, proof, codeName: "authorization code" });
}
