/** POST /oauth/token (RFC 6749 §3.2): form in, JSON out, errors per §5.2, never cached. */
import type { Context } from "hono";
import { authenticateClient, readClientCredentials } from "../oauth/client-auth";
import { clientResolver } from "../oauth/client-lookup";
import { OAuthError } from "../oauth/errors";
import { DEVICE_CODE_GRANT_TYPE } from "../oauth/grant-types";
import { exchangeAuthorizationCode } from "../oauth/grants/authorization-code";
import { clientCredentialsToken } from "../oauth/grants/client-credentials";
import type { GrantContext } from "../oauth/grants/context";
import { exchangeDeviceCode } from "../oauth/grants/device-code";
import { refreshTokens } from "../oauth/grants/refresh-token";
import { dbOf } from "../store/db";
import type { AppEnv } from "./context";
import { readForm } from "./form";

const GRANTS = {
  authorization_code: exchangeAuthorizationCode,
  refresh_token: refreshTokens,
  client_credentials: clientCredentialsToken,
  [DEVICE_CODE_GRANT_TYPE]: exchangeDeviceCode,
} as const;

export function grantContext(c: Context<AppEnv>): GrantContext {
  return {
    env: c.env,
    settings: c.get("settings"),
    db: dbOf(c.env.DB),
    defer: (work) => c.executionCtx.waitUntil(work.catch((e) => console.error("background work failed:", e))),
    ip: c.req.header("CF-Connecting-IP") ?? null,
  };
}

export async function handleToken(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const grantType = form.grant_type;
  if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType as keyof typeof GRANTS] : undefined;
  const ctx = grantContext(c);
  const client = await authenticateClient(
    ctx.db,
    ctx.settings,
    readClientCredentials(c.req.header("Authorization"), form),
    clientResolver(ctx.env, ctx.settings), // registered ids and metadata-document URLs
  );
  if (!grant)
    throw new OAuthError(
      "unsupported_grant_type",
      `grant_type must be authorization_code, refresh_token, client_credentials or ${DEVICE_CODE_GRANT_TYPE}`,
    );
  const body = await grant(ctx, client, form);
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
