/**
 * GET/POST /oauth/userinfo (OIDC Core §5.3; use case in oauth/userinfo.ts). Errors per RFC 6750 §3,
 * or with the DPoP challenge (RFC 9449 §7.1) for a token presented with the DPoP scheme.
 */
import type { Context } from "hono";
import { dpopNonceHeader } from "../oauth/dpop";
import { OAuthError } from "../oauth/errors";
import { type PresentedToken, userinfoClaims } from "../oauth/userinfo";
import { type AppEnv, readFormParams, uniqueParameters, useCaseContext } from "./context";

const bearerError = (code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string) =>
  new OAuthError(code, description, { bearer: true });

/**
 * RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never both, never the query string.
 * "DPoP" only from the Authorization header (RFC 9449 §7.1); the form body is Bearer.
 */
async function presentedToken(c: Context<AppEnv>): Promise<PresentedToken> {
  const header = c.req.header("Authorization");
  const fromBody = c.req.method === "POST" ? uniqueParameters(await readFormParams(c)).access_token : undefined;
  if (header && fromBody) throw bearerError("invalid_request", "send the token in one place only (RFC 6750 §2)");
  const request = { proofHeader: c.req.header("DPoP"), method: c.req.method };
  if (header) {
    const match = /^(Bearer|DPoP) +([\w\-.~+/]+=*) *$/i.exec(header);
    if (!match) throw bearerError("invalid_token", "the Authorization header must be a Bearer or DPoP token");
    const scheme = (match[1] as string).toLowerCase() === "dpop" ? "DPoP" : "Bearer";
    return { token: match[2] as string, scheme, ...request };
  }
  if (fromBody) return { token: fromBody, scheme: "Bearer", ...request };
  // RFC 6750 §3.1: no credentials at all → a bare challenge, no error code.
  throw new OAuthError("invalid_request", "", { bearer: true, status: 401 });
}

export async function handleUserinfo(c: Context<AppEnv>): Promise<Response> {
  const presented = await presentedToken(c);
  const result = await userinfoClaims(useCaseContext(c), presented);
  if (!result.ok) {
    if (result.challenge === "Bearer" && result.error !== "invalid_dpop_proof") {
      throw bearerError(result.error, result.description);
    }
    throw new OAuthError(result.error, result.description, {
      status: result.error === "insufficient_scope" ? 403 : 401,
      dpop: true,
    });
  }
  const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };
  // RFC 9449 §8.2: every answer to a DPoP request carries the current nonce.
  if (presented.scheme === "DPoP") Object.assign(headers, await dpopNonceHeader(c.get("settings")));
  return c.json(result.claims, 200, headers);
}
