/** POST /oauth/token (RFC 6749 §3.2): form in, JSON out, errors per §5.2, never cached. */
import type { Context } from "hono";
import { dpopNonceHeader, tokenEndpointProof } from "../oauth/dpop";
import { OAuthError } from "../oauth/errors";
import { DEVICE_CODE_GRANT_TYPE } from "../oauth/grant-types";
import { exchangeAuthorizationCode } from "../oauth/grants/authorization-code";
import { clientCredentialsToken } from "../oauth/grants/client-credentials";
import { exchangeDeviceCode } from "../oauth/grants/device-code";
import { refreshTokens } from "../oauth/grants/refresh-token";
import { type AppEnv, authenticatedClient, readForm, useCaseContext } from "./context";

const GRANTS = {
  authorization_code: exchangeAuthorizationCode,
  refresh_token: refreshTokens,
  client_credentials: clientCredentialsToken,
  [DEVICE_CODE_GRANT_TYPE]: exchangeDeviceCode,
} as const;

export async function handleToken(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const grantType = form.grant_type;
  if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType as keyof typeof GRANTS] : undefined;
  const client = await authenticatedClient(c, form);
  if (!grant)
    throw new OAuthError(
      "unsupported_grant_type",
      `grant_type must be authorization_code, refresh_token, client_credentials or ${DEVICE_CODE_GRANT_TYPE}`,
    );
  const ctx = useCaseContext(c);
  // RFC 9449 §5: a proof binds the access token (and a public client's refresh token) to its key.
  // Without a DPoP header this is one header lookup and one metadata flag.
  const proof = await tokenEndpointProof(ctx.settings, client, c.req.header("DPoP"));
  const body = await grant(ctx, client, form, proof);
  const headers = { "Cache-Control": "no-store", Pragma: "no-cache" };
  return c.json(body, 200, proof ? { ...headers, ...(await dpopNonceHeader(ctx.settings)) } : headers);
}
