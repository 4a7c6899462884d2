/** grant_type=client_credentials (RFC 6749 §4.4): admin-created apps acting as their service user. */
import type { ClientRow } from "../../store/clients";
import { OAuthError } from "../errors";
import { resolveResource } from "../resource";
import { expandMetaScopes, intersectScopes, parseRequestedScopes, sortScopes } from "../scopes";
import type { GrantContext } from "./context";
import { type GrantProof, spendClientProof } from "./dpop-binding";
import { issueTokens, type TokenResponse } from "./token-response";
import { touchUsage } from "./usage";

export async function clientCredentialsToken(
  ctx: GrantContext,
  client: ClientRow,
  form: Record<string, string>,
  proof?: GrantProof,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes("client_credentials") || !client.serviceUserId || !client.teamId) {
    throw new OAuthError("unauthorized_client", "only apps created by a team admin may use client_credentials");
  }
  const requested = parseRequestedScopes(form.scope);
  // The service user's permissions are exactly the app's scopes: requested ∩ app (all when omitted).
  const scopes =
    requested.length === 0 ? sortScopes(client.scopes) : intersectScopes(expandMetaScopes(requested), client.scopes);
  if (scopes.length === 0) throw new OAuthError("invalid_scope", "none of the requested scopes is granted to this app");
  // No user's object is involved: the proof's jti is spent in the client's own ClientReplay object.
  if (proof) await spendClientProof(ctx, client, proof);
  touchUsage(ctx, client.id, Date.now());
  // No refresh token (RFC 6749 §4.4.3) and no ID token: there is no end user.
  return issueTokens(ctx, {
    client,
    sub: client.serviceUserId,
    teamId: client.teamId,
    audience: resolveResource(ctx.settings, form.resource),
    scopes,
    dpopJkt: proof?.jkt,
  });
}
