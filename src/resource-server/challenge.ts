/**
 * Bearer challenges of a protected resource: RFC 6750 §3 (WWW-Authenticate, error codes) with the
 * RFC 9728 §5.1 `resource_metadata` parameter that tells a client where discovery starts.
 */

export type BearerError = "invalid_request" | "invalid_token" | "insufficient_scope";

/** A quoted-string value: printable ASCII, no `"` or `\` (RFC 6750 §3). */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "?").slice(0, 300)}"`;
}

export function bearerChallenge(
  resourceMetadataUrl: string,
  error?: { code: BearerError; description: string; scope?: string },
): string {
  const params: string[] = [];
  if (error) {
    params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
    if (error.scope) params.push(`scope=${quoted(error.scope)}`);
  }
  params.push(`resource_metadata=${quoted(resourceMetadataUrl)}`);
  return `Bearer ${params.join(", ")}`;
}

/**
 * RFC 9449 §7.1: the DPoP challenge, listing the proof algorithms accepted (`algs`), with an error
 * code when there is one, and resource_metadata (RFC 9728 §5.1) like the Bearer challenge.
 */
export function dpopChallenge(
  resourceMetadataUrl: string,
  algs: readonly string[],
  error?: { code: "invalid_token" | "invalid_dpop_proof" | "insufficient_scope"; description: string },
): string {
  const params = [`algs=${quoted(algs.join(" "))}`];
  if (error) params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
  params.push(`resource_metadata=${quoted(resourceMetadataUrl)}`);
  return `DPoP ${params.join(", ")}`;
}

const NO_STORE = { "Cache-Control": "no-store", "Content-Type": "application/json" };

/** 401 with the DPoP challenge: a proof problem, or a bound token presented without its proof (§7.1). */
export function dpopUnauthorized(
  resourceMetadataUrl: string,
  algs: readonly string[],
  code: "invalid_token" | "invalid_dpop_proof",
  description: string,
): Response {
  return new Response(JSON.stringify({ error: code, error_description: description }), {
    status: 401,
    headers: { ...NO_STORE, "WWW-Authenticate": dpopChallenge(resourceMetadataUrl, algs, { code, description }) },
  });
}

/**
 * 401: no token (RFC 6750 §3.1: a bare challenge, no error code) or a token that is not a live
 * access token for this resource (`invalid_token`).
 */
export function unauthorized(resourceMetadataUrl: string, description?: string): Response {
  const challenge = description
    ? bearerChallenge(resourceMetadataUrl, { code: "invalid_token", description })
    : bearerChallenge(resourceMetadataUrl);
  const body = description
    ? { error: "invalid_token", error_description: description }
    : { error: "invalid_request", error_description: "a Bearer access token is required (RFC 6750 §2.1)" };
  return new Response(JSON.stringify(body), {
    status: 401,
    headers: { ...NO_STORE, "WWW-Authenticate": challenge },
  });
}

/** 403 insufficient_scope (RFC 6750 §3.1), naming what the request needs and what the token holds. */
export function insufficientScope(resourceMetadataUrl: string, required: string[], held: string[]): Response {
  const missing = required.filter((s) => !held.includes(s));
  const description = `this request needs ${required.join(" ")}; the token holds ${held.join(" ") || "no scope"}`;
  const body = {
    error: "insufficient_scope",
    error_description: description,
    required_scopes: required,
    held_scopes: held,
    missing_scopes: missing,
  };
  return new Response(JSON.stringify(body), {
    status: 403,
    headers: {
      ...NO_STORE,
      "WWW-Authenticate": bearerChallenge(resourceMetadataUrl, {
        code: "insufficient_scope",
        description,
        scope: required.join(" "),
      }),
    },
  });
}
