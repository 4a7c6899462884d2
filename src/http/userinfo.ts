/**
 * GET/POST /oauth/userinfo (OIDC Core §5.3). Gateways call it on every request, so its path is:
 * verify the JWT locally, then in parallel one revocation check in the user's UserGrants object and
 * one D1 read of the user's current role. Errors per RFC 6750 §3 with WWW-Authenticate.
 * DPoP-bound tokens (RFC 9449 §7) come with the DPoP scheme and a proof, whose jti is spent in that
 * same call to the user's object; a bound token presented as a bearer token is refused (§7.1).
 */
import type { Context } from "hono";
import { identityClaims } from "../oauth/claims";
import { dpopNonceHeader, readDpopProof, type VerifiedProof } from "../oauth/dpop";
import { proofReplayKey } from "../oauth/dpop-proof";
import { OAuthError } from "../oauth/errors";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { accessTokenStatus, boundKeyOf, type LiveToken, readAccessToken } from "../oauth/token-status";
import type { AppEnv } from "./context";
import { MAX_FORM_BYTES, parseForm, readBoundedText } from "./form";
import { grantContext } from "./token";

const bearerError = (code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string) =>
  new OAuthError(code, description, { bearer: true });
const dpopError = (code: "invalid_token" | "invalid_dpop_proof", description: string) =>
  new OAuthError(code, description, { status: 401, dpop: true });

interface PresentedToken {
  token: string;
  /** "DPoP" only from the Authorization header (RFC 9449 §7.1); the form body is Bearer (RFC 6750 §2.2). */
  scheme: "Bearer" | "DPoP";
}

/** RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never both, never the query string. */
async function presentedToken(c: Context<AppEnv>): Promise<PresentedToken> {
  const header = c.req.header("Authorization");
  let fromBody: string | undefined;
  if (c.req.method === "POST" && /^application\/x-www-form-urlencoded/i.test(c.req.header("Content-Type") ?? "")) {
    fromBody = parseForm(await readBoundedText(c, MAX_FORM_BYTES)).access_token;
  }
  if (header && fromBody) throw bearerError("invalid_request", "send the token in one place only (RFC 6750 §2)");
  if (header) {
    const match = /^(Bearer|DPoP) +([\w\-.~+/]+=*) *$/i.exec(header);
    if (!match) throw bearerError("invalid_token", "the Authorization header must be a Bearer or DPoP token");
    return { token: match[2] as string, scheme: (match[1] as string).toLowerCase() === "dpop" ? "DPoP" : "Bearer" };
  }
  if (fromBody) return { token: fromBody, scheme: "Bearer" };
  // RFC 6750 §3.1: no credentials at all → a bare challenge, no error code.
  throw new OAuthError("invalid_request", "", { bearer: true, status: 401 });
}

/** RFC 9449 §7.1: the proof must be valid, carry the token's hash, and be signed by the bound key. */
async function dpopTokenStatus(
  c: Context<AppEnv>,
  token: string,
): Promise<{ status: LiveToken; proof: VerifiedProof }> {
  const ctx = grantContext(c);
  const proof = await readDpopProof(ctx.settings, {
    header: c.req.header("DPoP"),
    method: c.req.method,
    path: ENDPOINT_PATHS.userinfo,
    accessToken: token,
    surface: "resource",
  });
  if (!proof) throw dpopError("invalid_dpop_proof", "the DPoP scheme needs a DPoP proof header (RFC 9449 §7.1)");
  const claims = await readAccessToken(ctx, token);
  if (!claims) throw dpopError("invalid_token", "the access token is invalid, expired or revoked");
  const bound = boundKeyOf(claims);
  if (bound === undefined) throw dpopError("invalid_token", "this access token is not DPoP-bound: use Bearer");
  if (bound !== proof.jkt) {
    throw dpopError(
      "invalid_token",
      "the DPoP proof is signed by another key than the token is bound to (RFC 9449 §7.1)",
    );
  }
  let status: LiveToken | null;
  try {
    status = await accessTokenStatus(ctx, token, { key: proofReplayKey(proof), expiresAt: proof.replayUntil }, claims);
  } catch (e) {
    // A replayed proof: at a protected resource that is a 401 with the DPoP challenge (RFC 9449 §7.1).
    if (e instanceof OAuthError && e.code === "invalid_dpop_proof")
      throw dpopError("invalid_dpop_proof", e.description);
    throw e;
  }
  if (!status) throw dpopError("invalid_token", "the access token is invalid, expired or revoked");
  return { status, proof };
}

export async function handleUserinfo(c: Context<AppEnv>): Promise<Response> {
  const { token, scheme } = await presentedToken(c);
  let status: LiveToken | null;
  const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };
  if (scheme === "DPoP") {
    status = (await dpopTokenStatus(c, token)).status;
    Object.assign(headers, await dpopNonceHeader(c.get("settings")));
  } else {
    status = await accessTokenStatus(grantContext(c), token);
    // RFC 9449 §7.1: a DPoP-bound token is worthless without its key, so never as a bearer token.
    if (status?.jkt) {
      throw dpopError("invalid_token", "this access token is DPoP-bound: send it with the DPoP scheme and a proof");
    }
  }
  if (!status) throw bearerError("invalid_token", "the access token is invalid, expired or revoked");
  // OIDC Core §5.3: userinfo is for tokens that carry the openid scope.
  if (!status.scopes.includes("openid")) {
    throw new OAuthError("insufficient_scope", "the access token lacks the openid scope", {
      bearer: scheme === "Bearer",
      dpop: scheme === "DPoP",
      status: 403,
    });
  }
  return c.json({ sub: status.sub, ...identityClaims(status.user, status.membership, status.scopes) }, 200, headers);
}
