/**
 * Validation of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1), in
 * the order the RFC demands: client_id and redirect_uri first — a failure there must never
 * redirect (RFC 6749 §4.1.2.1) — then everything else, whose failures go back to the client.
 */
import type { Settings } from "../config";
import { MAX_PARAMETER_LENGTH } from "../limits";
import type { ClientRow } from "../store/clients";
import { OAuthError } from "./errors";
import { isValidS256Challenge } from "./pkce";
import { matchesRegisteredRedirectUri } from "./redirect-uri";
import { refuseRequestObject } from "./request-object";
import { requestedClientScopes } from "./requested-scopes";
import { resolveResource } from "./resource";

/** The request parameters we read; everything else is ignored (RFC 6749 §3.1). */
export const AUTHORIZATION_PARAMETERS = [
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
  "nonce",
  "prompt",
  "max_age",
  "login_hint",
  "id_token_hint",
  "resource",
  "response_mode",
  "auth_after",
  // Read only to refuse them (OIDC Core §6): never silently ignored.
  "request",
  "request_uri",
] as const;

export type AuthorizationParams = Partial<Record<(typeof AUTHORIZATION_PARAMETERS)[number], string>>;

export interface AuthorizationRequest {
  client: ClientRow;
  redirectUri: string;
  /** The request named redirect_uri, so the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriInRequest: boolean;
  /** Requested scopes, meta scopes expanded, restricted to what the client registered (OIDC scopes too). */
  scopes: string[];
  state: string | undefined;
  codeChallenge: string;
  nonce: string | null;
  prompt: Set<"none" | "login" | "consent">;
  maxAge: number | undefined;
  loginHint: string | undefined;
  /** OIDC Core §3.1.2.1, verified by id-token-hint.ts (it needs the signing keys). */
  idTokenHint: string | undefined;
  audience: string;
  resource: string | null;
  /** Internal: the session must be at least this recent (set after a forced re-login). */
  authAfter: number | undefined;
}

/** A failure the user sees as a page: the client or redirect URI cannot be trusted with an error. */
export class UntrustedRequestError extends Error {
  constructor(
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the parameters; a repeated parameter is an error (RFC 6749 §3.1). */
export function readAuthorizationParams(source: URLSearchParams): { params: AuthorizationParams; repeated?: string } {
  const params: AuthorizationParams = {};
  let repeated: string | undefined;
  for (const name of AUTHORIZATION_PARAMETERS) {
    const values = source.getAll(name);
    if (values.length > 1) repeated ??= name;
    if (values.length > 0) params[name] = values[0];
  }
  return { params, repeated };
}

/** Step 1: the client and its redirect URI. Throws UntrustedRequestError (shown, never redirected). */
export function checkClientAndRedirect(
  params: AuthorizationParams,
  repeated: string | undefined,
  client: ClientRow | undefined,
  /** Why the client could not be resolved, when that is worth telling (a metadata-document problem). */
  problem?: string,
): string {
  if (repeated === "client_id" || repeated === "redirect_uri") {
    throw new UntrustedRequestError("Invalid request", `The ${repeated} parameter was sent more than once.`);
  }
  if (!params.client_id) throw new UntrustedRequestError("Invalid request", "The request has no client_id.");
  if (!client) {
    if (problem) {
      throw new UntrustedRequestError(
        "Application not usable",
        `This application's metadata document cannot be used: ${problem}.`,
      );
    }
    throw new UntrustedRequestError("Unknown application", "This application is not registered with this server.");
  }
  const requested = params.redirect_uri;
  // OAuth 2.1 §4.1.1: redirect_uri may be omitted only when exactly one is registered.
  if (requested === undefined) {
    if (client.redirectUris.length === 1) return client.redirectUris[0] as string;
    throw new UntrustedRequestError("Invalid request", "The request has no redirect_uri.");
  }
  if (!matchesRegisteredRedirectUri(client.redirectUris, requested)) {
    throw new UntrustedRequestError(
      "Invalid redirect URI",
      "The redirect URI in this request is not registered for this application, so we will not send you there.",
    );
  }
  return requested;
}

/** Step 2: everything else. Throws OAuthError, which the caller sends back to the redirect URI. */
export function checkAuthorizationRequest(
  settings: Settings,
  params: AuthorizationParams,
  repeated: string | undefined,
  client: ClientRow,
  redirectUri: string,
): AuthorizationRequest {
  if (repeated) throw new OAuthError("invalid_request", `parameter ${repeated} is repeated (RFC 6749 §3.1)`);
  // Before anything else: the other parameters may live only inside the object (RFC 9101 §5).
  refuseRequestObject(params);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value.length > MAX_PARAMETER_LENGTH) {
      throw new OAuthError("invalid_request", `parameter ${name} is too long`);
    }
  }
  // RFC 6749 §4.1.2.1: a missing required parameter is invalid_request; another value is unsupported.
  if (params.response_type === undefined) throw new OAuthError("invalid_request", "response_type is required");
  if (params.response_type !== "code") {
    throw new OAuthError("unsupported_response_type", "response_type must be code");
  }
  if (params.response_mode !== undefined && params.response_mode !== "query") {
    throw new OAuthError("invalid_request", "response_mode must be query");
  }
  if (!client.grantTypes.includes("authorization_code")) {
    throw new OAuthError("unauthorized_client", "this client may not use the authorization code grant");
  }
  // RFC 7636 §4.3 + OAuth 2.1: PKCE with S256 for every client; plain is refused.
  if (!params.code_challenge) throw new OAuthError("invalid_request", "code_challenge is required (PKCE, RFC 7636)");
  if (params.code_challenge_method !== "S256") {
    throw new OAuthError("invalid_request", "code_challenge_method must be S256 (plain is not supported)");
  }
  if (!isValidS256Challenge(params.code_challenge)) {
    throw new OAuthError("invalid_request", "code_challenge is not a valid S256 challenge (RFC 7636 §4.2)");
  }

  const scopes = requestedClientScopes(client, params.scope);

  const prompt = new Set<"none" | "login" | "consent">();
  for (const p of (params.prompt ?? "").split(" ").filter(Boolean)) {
    if (p !== "none" && p !== "login" && p !== "consent") {
      throw new OAuthError("invalid_request", `prompt value ${p.slice(0, 40)} is not supported`);
    }
    prompt.add(p);
  }
  // OIDC Core §3.1.2.1: none with any other value is an error.
  if (prompt.has("none") && prompt.size > 1) throw new OAuthError("invalid_request", "prompt=none cannot be combined");

  let maxAge: number | undefined;
  if (params.max_age !== undefined) {
    if (!/^\d{1,10}$/.test(params.max_age))
      throw new OAuthError("invalid_request", "max_age must be a whole number of seconds");
    maxAge = Number(params.max_age);
  }
  const authAfter =
    params.auth_after !== undefined && /^\d{1,12}$/.test(params.auth_after) ? Number(params.auth_after) : undefined;
  const resource = params.resource ? params.resource : null;
  const audience = resolveResource(settings, params.resource);

  return {
    client,
    redirectUri,
    redirectUriInRequest: params.redirect_uri !== undefined,
    scopes,
    state: params.state,
    codeChallenge: params.code_challenge,
    nonce: params.nonce ?? null,
    prompt,
    maxAge,
    loginHint: params.login_hint,
    // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    idTokenHint: params.id_token_hint || undefined,
    audience,
    resource: resource === null ? null : audience,
    authAfter,
  };
}

/** RFC 6749 §4.1.2 / §4.1.2.1 + RFC 9207: the redirect back to the client, always with iss. */
export function authorizationResponseUrl(
  settings: Settings,
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set("iss", settings.issuer);
  return url.href;
}
