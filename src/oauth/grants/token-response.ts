/** Builds the RFC 6749 §5.1 success response: a JWT access token, and an ID token when openid. */
import type { ClientRow } from "../../store/clients";
import { mintAccessToken } from "../../tokens/access-token";
import { mintIdToken } from "../../tokens/id-token";
import { keysetOf } from "../../tokens/signing-keys";
import { accessTokenAudience } from "../resource";
import { formatScope } from "../scopes";
import { DEFAULT_ID_TOKEN_SIGNING_ALG } from "../signing-algorithms";
import type { GrantContext } from "./context";

export interface TokenResponse {
  access_token: string;
  /** RFC 9449 §5: "DPoP" when the access token is bound to a proof's key. */
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export interface IssueInput {
  client: ClientRow;
  sub: string;
  teamId: string;
  audience: string;
  /** Effective scopes: granted ∩ the holder's ceiling now. */
  scopes: string[];
  familyId?: string;
  refreshToken?: string;
  /** The DPoP key thumbprint to bind the access token to (RFC 9449 §6.1). */
  dpopJkt?: string;
  /** Present when an ID token is due (openid granted). */
  idToken?: { nonce: string | null; authTime: number; claims: Record<string, unknown> };
}

export async function issueTokens(ctx: GrantContext, input: IssueInput): Promise<TokenResponse> {
  const keyset = await keysetOf(ctx.db, ctx.settings);
  const scope = formatScope(input.scopes);
  const access = await mintAccessToken(keyset, ctx.settings, {
    sub: input.sub,
    aud: accessTokenAudience(ctx.settings, input.audience, input.scopes),
    clientId: input.client.id,
    scope,
    teamId: input.teamId,
    familyId: input.familyId,
    jkt: input.dpopJkt,
  });
  const response: TokenResponse = {
    access_token: access.token,
    token_type: input.dpopJkt ? "DPoP" : "Bearer",
    expires_in: ctx.settings.accessTokenTtl,
    scope,
  };
  if (input.refreshToken) response.refresh_token = input.refreshToken;
  if (input.idToken && input.scopes.includes("openid")) {
    response.id_token = await mintIdToken(keyset, ctx.settings, {
      sub: input.sub,
      clientId: input.client.id,
      alg: input.client.idTokenSignedResponseAlg === "ES256" ? "ES256" : DEFAULT_ID_TOKEN_SIGNING_ALG,
      nonce: input.idToken.nonce,
      authTime: input.idToken.authTime,
      accessToken: access.token,
      claims: input.idToken.claims,
    });
  }
  return response;
}
