/**
 * GET/POST /oauth/userinfo (OIDC Core §5.3). Gateways call it on every request, so its path is:
 * verify the JWT locally, then in parallel one revocation check in the user's UserGrants object and
 * one D1 read of the user's current role. Errors per RFC 6750 §3 with WWW-Authenticate.
 */
import type { Context } from "hono";
import { MAX_BODY_BYTES } from "../limits";
import { identityClaims } from "../oauth/claims";
import { OAuthError } from "../oauth/errors";
import { isAudienceOf } from "../oauth/resource";
import { accessTokenStatus } from "../oauth/token-status";
import type { AppEnv } from "./context";
import { parseForm, readBoundedText } from "./form";
import { grantContext } from "./token";

const bearerError = (code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string) =>
  new OAuthError(code, description, { bearer: true });

/** RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never both, never the query string. */
async function bearerToken(c: Context<AppEnv>): Promise<string> {
  const header = c.req.header("Authorization");
  let fromBody: string | undefined;
  if (c.req.method === "POST" && /^application\/x-www-form-urlencoded/i.test(c.req.header("Content-Type") ?? "")) {
    fromBody = parseForm(await readBoundedText(c, MAX_BODY_BYTES)).access_token;
  }
  if (header && fromBody) throw bearerError("invalid_request", "send the token in one place only (RFC 6750 §2)");
  if (header) {
    const match = /^Bearer +([\w\-.~+/]+=*) *$/i.exec(header);
    if (!match) throw bearerError("invalid_token", "the Authorization header must be a Bearer token");
    return match[1] as string;
  }
  if (fromBody) return fromBody;
  // RFC 6750 §3.1: no credentials at all → a bare challenge, no error code.
  throw new OAuthError("invalid_request", "", { bearer: true, status: 401 });
}

export async function handleUserinfo(c: Context<AppEnv>): Promise<Response> {
  const token = await bearerToken(c);
  const status = await accessTokenStatus(grantContext(c), token);
  if (!status) throw bearerError("invalid_token", "the access token is invalid, expired or revoked");
  // OIDC Core §5.3: userinfo is for tokens that carry the openid scope.
  if (!status.scopes.includes("openid")) {
    throw bearerError("insufficient_scope", "the access token lacks the openid scope");
  }
  // RFC 9068 §4: a token issued for another resource is not a UserInfo token.
  if (!isAudienceOf(status.aud, c.get("settings").issuer)) {
    throw bearerError("invalid_token", "the access token is not for this server (aud)");
  }
  return c.json({ sub: status.sub, ...identityClaims(status.user, status.membership, status.scopes) }, 200, {
    "Cache-Control": "no-store",
    Pragma: "no-cache",
  });
}
