/** GET/POST /oauth/userinfo (OIDC Core §5.3; use case in oauth/userinfo.ts). Errors per RFC 6750 §3. */
import type { Context } from "hono";
import { OAuthError } from "../oauth/errors";
import { userinfoClaims } from "../oauth/userinfo";
import { type AppEnv, readFormParams, uniqueParameters, useCaseContext } from "./context";

const bearerError = (code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string) =>
  new OAuthError(code, description, { bearer: true });

/** RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never both, never the query string. */
async function bearerToken(c: Context<AppEnv>): Promise<string> {
  const header = c.req.header("Authorization");
  const fromBody = c.req.method === "POST" ? uniqueParameters(await readFormParams(c)).access_token : undefined;
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
  const result = await userinfoClaims(useCaseContext(c), await bearerToken(c));
  if (!result.ok) throw bearerError(result.error, result.description);
  return c.json(result.claims, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
