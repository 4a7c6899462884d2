/**
 * The one error type of the protocol layer. Thrown anywhere below `http/`, rendered in one place
 * (`renderOAuthError`): RFC 6749 §5.2 JSON for token-style endpoints, RFC 6750 §3 WWW-Authenticate
 * for bearer endpoints, RFC 7591 §3.2.2 codes for registration.
 */
import { DPOP_SIGNING_ALGS } from "./signing-algorithms";

export type OAuthErrorCode =
  // RFC 6749 §4.1.2.1 and §5.2
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "access_denied"
  | "server_error"
  | "temporarily_unavailable"
  // RFC 6750 §3.1
  | "invalid_token"
  | "insufficient_scope"
  // RFC 7591 §3.2.2
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  // RFC 8707 §2
  | "invalid_target"
  // RFC 9449 §5, §7.1, §8, §9
  | "invalid_dpop_proof"
  | "use_dpop_nonce"
  // OIDC Core §3.1.2.6
  | "login_required"
  | "consent_required"
  | "interaction_required"
  // OIDC Core §3.1.2.6 (request objects, §6): not offered until pushed authorization requests exist
  | "request_not_supported"
  | "request_uri_not_supported"
  // RFC 8628 §3.5 (device_code polling); slow_down is also the common code for rate limits.
  | "authorization_pending"
  | "expired_token"
  | "slow_down"
  | "not_found";

const DEFAULT_STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  slow_down: 429,
  not_found: 404,
};

export interface OAuthErrorOptions {
  status?: number;
  /** Bearer-protected resource (RFC 6750): render WWW-Authenticate: Bearer. */
  bearer?: boolean;
  /**
   * A DPoP-protected resource (RFC 9449 §7.1): render `WWW-Authenticate: DPoP algs="…"` with the
   * error, instead of Bearer. Also used when a DPoP-bound token was presented as a bearer token.
   */
  dpop?: boolean;
  /** The client tried HTTP Basic: answer 401 with WWW-Authenticate: Basic (RFC 6749 §5.2). */
  basicChallenge?: boolean;
  headers?: Record<string, string>;
}

export class OAuthError extends Error {
  readonly status: number;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly options: OAuthErrorOptions = {},
  ) {
    super(`${code}: ${description}`);
    this.name = "OAuthError";
    this.status = options.status ?? DEFAULT_STATUS[code] ?? 400;
  }
}

/** error_description must be printable ASCII without `"` or `\` (RFC 6749 §5.2). */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "?").slice(0, 300);
}

export function renderOAuthError(error: OAuthError, realm?: string): Response {
  const headers = new Headers({
    "Content-Type": "application/json;charset=UTF-8",
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    ...error.options.headers,
  });
  const description = safeDescription(error.description);
  if (error.options.dpop) {
    // RFC 9449 §7.1: the DPoP scheme, with the algorithms a proof may use.
    const params = [`algs="${DPOP_SIGNING_ALGS.join(" ")}"`, `error="${error.code}"`];
    if (description) params.push(`error_description="${description}"`);
    headers.set("WWW-Authenticate", `DPoP ${params.join(", ")}`);
  } else if (error.options.bearer) {
    // RFC 6750 §3: a request without any credentials gets a bare challenge with no error code.
    const params = [`realm="${realm ?? "edge-oidc"}"`];
    if (error.code !== "invalid_request" || description) params.push(`error="${error.code}"`);
    if (description) params.push(`error_description="${description}"`);
    headers.set("WWW-Authenticate", `Bearer ${params.join(", ")}`);
  } else if (error.options.basicChallenge && error.status === 401) {
    headers.set("WWW-Authenticate", `Basic realm="${realm ?? "edge-oidc"}", charset="UTF-8"`);
  }
  return new Response(JSON.stringify({ error: error.code, error_description: description }), {
    status: error.status,
    headers,
  });
}
