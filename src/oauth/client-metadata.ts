/**
 * Client metadata rules (RFC 7591 §2), shared by dynamic registration and admin-created apps. Pure
 * functions: JSON values in, normalized values out, or an OAuthError with an RFC 7591 §3.2.2 code.
 */
import { MAX_METADATA_DOCUMENT_BYTES } from "../limits";
import { checkFetchableUrl, MetadataDocumentError } from "./client-fetch";
import { OAuthError } from "./errors";
import { DEVICE_CODE_GRANT_TYPE } from "./grant-types";
import { isLoopbackRedirectUri, validateRedirectUri } from "./redirect-uri";
import {
  expandMetaScopes,
  GRANULAR_SCOPES,
  isGranularScope,
  isKnownScope,
  isMetaScope,
  OIDC_SCOPES,
  parseScope,
} from "./scopes";
import { DEFAULT_ID_TOKEN_SIGNING_ALG, ID_TOKEN_SIGNING_ALGS, type IdTokenSigningAlg } from "./signing-algorithms";

export const MAX_REDIRECT_URIS = 20;
export const MAX_CLIENT_NAME_LENGTH = 100;
const MAX_TEXT_LENGTH = 200;
const MAX_CONTACTS = 10;

/** A client that registers no scope gets the OIDC scopes and every granular scope (README "Scopes"). */
export const DEFAULT_CLIENT_SCOPES: readonly string[] = [...OIDC_SCOPES, ...GRANULAR_SCOPES];

export type TokenEndpointAuthMethod = "none" | "client_secret_basic" | "client_secret_post" | "private_key_jwt";
export type ApplicationType = "web" | "native";

function badMetadata(description: string): never {
  throw new OAuthError("invalid_client_metadata", description);
}

/** The request body as a JSON object; malformed JSON, arrays and scalars are `code`. */
export function parseJsonObject(
  text: string,
  code: "invalid_client_metadata" | "invalid_request",
): Record<string, unknown> {
  let value: unknown;
  try {
    // Duplicate keys: JSON.parse keeps the last one, and nothing below depends on key order.
    value = JSON.parse(text);
  } catch {
    throw new OAuthError(code, "the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OAuthError(code, "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Display text: no control or invisible format characters (bidi overrides…), NFC, trimmed, capped. */
export function cleanText(value: unknown, field: string, maxLength = MAX_TEXT_LENGTH): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") badMetadata(`${field} must be a string`);
  const cleaned = value
    .normalize("NFC")
    .replace(/\s+/g, " ")
    .replace(/[\p{Cc}\p{Cf}]/gu, "")
    .replace(/ {2,}/g, " ")
    .trim();
  // Cut on code points, never inside a surrogate pair.
  const capped = Array.from(cleaned).slice(0, maxLength).join("");
  return capped || undefined;
}

export function cleanClientName(value: unknown): string | undefined {
  return cleanText(value, "client_name", MAX_CLIENT_NAME_LENGTH);
}

export function validateRedirectUris(value: unknown, { required }: { required: boolean }): string[] {
  if (value === undefined || value === null) {
    if (required) throw new OAuthError("invalid_redirect_uri", "redirect_uris is required");
    return [];
  }
  if (!Array.isArray(value)) throw new OAuthError("invalid_redirect_uri", "redirect_uris must be an array");
  if (value.length > MAX_REDIRECT_URIS) {
    throw new OAuthError("invalid_redirect_uri", `at most ${MAX_REDIRECT_URIS} redirect_uris may be registered`);
  }
  if (required && value.length === 0) throw new OAuthError("invalid_redirect_uri", "redirect_uris is empty");
  for (const uri of value) {
    if (typeof uri !== "string") throw new OAuthError("invalid_redirect_uri", "each redirect URI must be a string");
    validateRedirectUri(uri);
  }
  return [...new Set(value as string[])];
}

/**
 * post_logout_redirect_uris (OpenID Connect RP-Initiated Logout 1.0 §3.1): the same rules as
 * redirect URIs (https, or http on loopback; no fragment). Matched exactly at logout.
 */
export function validatePostLogoutRedirectUris(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OAuthError("invalid_redirect_uri", "post_logout_redirect_uris must be an array");
  if (value.length > MAX_REDIRECT_URIS) {
    throw new OAuthError("invalid_redirect_uri", `at most ${MAX_REDIRECT_URIS} post_logout_redirect_uris`);
  }
  for (const uri of value) {
    if (typeof uri !== "string") throw new OAuthError("invalid_redirect_uri", "each post-logout URI must be a string");
    validateRedirectUri(uri);
  }
  return [...new Set(value as string[])];
}

/** Every redirect URI on a loopback host: the mark of a native app (RFC 8252 §7.3). */
export function allLoopback(redirectUris: readonly string[]): boolean {
  return redirectUris.length > 0 && redirectUris.every(isLoopbackRedirectUri);
}

function scopeList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") badMetadata("scope must be a space-separated string");
  const parsed = parseScope(value);
  if (!Array.isArray(parsed)) badMetadata(parsed.invalid);
  if (parsed.length > 200) badMetadata("too many scopes");
  return parsed.length > 0 ? parsed : undefined;
}

function refuseUnknown(scopes: readonly string[]): void {
  const unknown = scopes.find((s) => !isKnownScope(s));
  if (unknown !== undefined) badMetadata(`unknown scope ${JSON.stringify(unknown.slice(0, 60))}`);
}

/** Dynamic registration: known scopes only, no meta scopes; none → the default set. */
export function registrationScopes(value: unknown): string[] {
  const scopes = scopeList(value);
  if (!scopes) return [...DEFAULT_CLIENT_SCOPES];
  refuseUnknown(scopes);
  const meta = scopes.find(isMetaScope);
  if (meta) badMetadata(`the meta scope ${meta} cannot be registered; list the granular scopes`);
  return scopes;
}

/**
 * Admin-created apps may use the meta scopes; they are stored expanded. A client_credentials app
 * acts for no person, so it holds granular scopes only, and must name at least one.
 */
export function adminAppScopes(value: unknown, clientCredentials: boolean): string[] {
  const scopes = scopeList(value);
  if (!scopes) {
    if (clientCredentials)
      badMetadata("a client_credentials app needs a scope (its permissions are exactly its scopes)");
    return [...DEFAULT_CLIENT_SCOPES];
  }
  refuseUnknown(scopes);
  const expanded = expandMetaScopes(scopes);
  if (clientCredentials) {
    const personal = expanded.find((s) => !isGranularScope(s));
    if (personal) badMetadata(`a client_credentials app cannot hold ${personal}: it has no end user`);
  }
  return expanded;
}

function stringList(value: unknown, field: string, max: number): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    badMetadata(`${field} must be an array of strings`);
  }
  if (value.length > max) badMetadata(`${field} has more than ${max} entries`);
  return [...new Set(value as string[])];
}

/** A URL shown to users (client_uri, logo_uri, tos_uri, policy_uri): https only, like redirect URIs. */
function displayUrl(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > 2000 || !/^https:\/\/[\x21-\x7e]+$/.test(value)) {
    badMetadata(`${field} must be an https URL`);
  }
  const url = URL.parse(value);
  if (!url) badMetadata(`${field} must be an https URL`);
  if (url.username || url.password) badMetadata(`${field} must not contain userinfo`);
  return value;
}

/** The optional descriptive metadata kept for display and RFC 7592 reads. */
function descriptiveMetadata(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    client_uri: displayUrl(body.client_uri, "client_uri"),
    logo_uri: displayUrl(body.logo_uri, "logo_uri"),
    tos_uri: displayUrl(body.tos_uri, "tos_uri"),
    policy_uri: displayUrl(body.policy_uri, "policy_uri"),
    contacts: stringList(body.contacts, "contacts", MAX_CONTACTS)
      ?.map((c) => cleanText(c, "contacts"))
      .filter((c) => c !== undefined),
    software_id: cleanText(body.software_id, "software_id"),
    software_version: cleanText(body.software_version, "software_version"),
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

// ---- keys (RFC 7591 §2 jwks / jwks_uri, RFC 7523 private_key_jwt) and DPoP (RFC 9449 §5.2) --------

/** Members that only a private or symmetric JWK has (RFC 7517, RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_CLIENT_KEYS = 10;

/** A JWK Set of public signing keys, as a client may register it by value (RFC 7591 §2 `jwks`). */
export function validateJwks(value: unknown): { keys: Record<string, unknown>[] } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) badMetadata("jwks must be a JWK Set object");
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) badMetadata("jwks must have a non-empty keys array");
  if (keys.length > MAX_CLIENT_KEYS) badMetadata(`jwks may hold at most ${MAX_CLIENT_KEYS} keys`);
  for (const key of keys) {
    if (typeof key !== "object" || key === null || Array.isArray(key)) badMetadata("each key in jwks must be a JWK");
    const jwk = key as Record<string, unknown>;
    if (!["EC", "RSA", "OKP"].includes(String(jwk.kty))) badMetadata("jwks keys must have kty EC, RSA or OKP");
    if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) badMetadata("jwks must hold public keys only");
    if (jwk.use !== undefined && jwk.use !== "sig") badMetadata('jwks keys must be signing keys (use "sig")');
    if (jwk.kid !== undefined && (typeof jwk.kid !== "string" || jwk.kid.length > 200)) {
      badMetadata("a kid in jwks must be a string");
    }
  }
  if (JSON.stringify(keys).length > MAX_METADATA_DOCUMENT_BYTES)
    badMetadata(`jwks is larger than ${MAX_METADATA_DOCUMENT_BYTES} bytes`);
  return { keys: keys as Record<string, unknown>[] };
}

/** A jwks_uri: fetched later under the same SSRF rules as metadata documents, so checked by them now. */
export function validateJwksUri(value: unknown, options: { allowLoopback: boolean }): string {
  if (typeof value !== "string") badMetadata("jwks_uri must be an https URL");
  try {
    return checkFetchableUrl(value, "the jwks_uri", options).href;
  } catch (e) {
    if (e instanceof MetadataDocumentError) badMetadata(e.message);
    throw e;
  }
}

/**
 * The client's keys and DPoP preference, kept in its metadata: `jwks` or `jwks_uri` (never both,
 * RFC 7591 §2), one of them required for private_key_jwt (RFC 7523 §2.2, OIDC Core §9), and
 * `dpop_bound_access_tokens` (RFC 9449 §5.2).
 */
export function keyMetadata(
  body: Record<string, unknown>,
  method: TokenEndpointAuthMethod,
  options: { allowLoopback: boolean },
): Record<string, unknown> {
  const hasJwks = body.jwks !== undefined && body.jwks !== null;
  const hasUri = body.jwks_uri !== undefined && body.jwks_uri !== null;
  if (hasJwks && hasUri) badMetadata("send jwks or jwks_uri, not both (RFC 7591 §2)");
  if (method === "private_key_jwt" && !hasJwks && !hasUri) {
    badMetadata("private_key_jwt needs the client's public keys: jwks or jwks_uri");
  }
  const out: Record<string, unknown> = {};
  if (hasJwks) out.jwks = validateJwks(body.jwks);
  if (hasUri) out.jwks_uri = validateJwksUri(body.jwks_uri, options);
  if (body.dpop_bound_access_tokens !== undefined && body.dpop_bound_access_tokens !== null) {
    if (typeof body.dpop_bound_access_tokens !== "boolean") badMetadata("dpop_bound_access_tokens must be a boolean");
    if (body.dpop_bound_access_tokens) out.dpop_bound_access_tokens = true;
  }
  return out;
}

export interface RegistrationMetadata {
  /** Undefined when the client sent none (the caller substitutes a display name). */
  clientName: string | undefined;
  applicationType: ApplicationType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  idTokenSignedResponseAlg: IdTokenSigningAlg;
  metadata: Record<string, unknown>;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    badMetadata(`${field} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** `id_token_signed_response_alg` as sent, checked; undefined when absent (the caller's default applies). */
export function idTokenSigningAlg(value: unknown): IdTokenSigningAlg | undefined {
  if (value === undefined || value === null) return undefined;
  return oneOf(value, "id_token_signed_response_alg", ID_TOKEN_SIGNING_ALGS, DEFAULT_ID_TOKEN_SIGNING_ALG);
}

/** The grants a person-facing app (self-registered or admin-created) may hold. */
const PERSONAL_GRANT_TYPES = ["authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE];

/**
 * grant_types of an app that acts for people: authorization_code and/or the device_code grant
 * (RFC 8628 §4), with refresh_token optional; client_credentials is for admin-created apps only.
 */
export function personalGrantTypes(value: unknown, fallback: readonly string[]): string[] {
  const grants = stringList(value, "grant_types", 10) ?? [...fallback];
  if (grants.includes("client_credentials")) {
    badMetadata("client_credentials apps cannot self-register; a team admin creates them");
  }
  const other = grants.find((g) => !PERSONAL_GRANT_TYPES.includes(g));
  if (other !== undefined) badMetadata(`grant type ${JSON.stringify(other.slice(0, 60))} is not supported`);
  if (!grants.includes("authorization_code") && !grants.includes(DEVICE_CODE_GRANT_TYPE)) {
    badMetadata(`grant_types must include authorization_code or ${DEVICE_CODE_GRANT_TYPE}`);
  }
  return grants;
}

/** RFC 7591 §2.1: response_types ["code"] goes with the authorization_code grant, [] without it. */
function registrationResponseTypes(value: unknown, grantTypes: readonly string[]): void {
  const redirects = grantTypes.includes("authorization_code");
  const types = stringList(value, "response_types", 10) ?? (redirects ? ["code"] : []);
  if (redirects && (types.length !== 1 || types[0] !== "code")) badMetadata('response_types must be ["code"]');
  if (!redirects && types.length > 0) badMetadata("response_types must be empty without authorization_code");
}

/**
 * RFC 7591 §2 metadata of a self-registering client for people, validated and defaulted.
 * `allowLoopback` (tests only) lets a jwks_uri live on loopback, as for metadata documents.
 */
export function parseRegistrationRequest(
  body: Record<string, unknown>,
  options: { allowLoopback: boolean } = { allowLoopback: false },
): RegistrationMetadata {
  const grantTypes = personalGrantTypes(body.grant_types, ["authorization_code"]);
  // A device-only client (RFC 8628) never redirects: redirect URIs are optional for it.
  const redirectUris = validateRedirectUris(body.redirect_uris, {
    required: grantTypes.includes("authorization_code"),
  });
  // RFC 7591 §2: the default is client_secret_basic.
  const tokenEndpointAuthMethod = oneOf(
    body.token_endpoint_auth_method,
    "token_endpoint_auth_method",
    ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"] as const,
    "client_secret_basic",
  );
  registrationResponseTypes(body.response_types, grantTypes);
  return {
    clientName: cleanClientName(body.client_name),
    // Loopback-only redirect URIs without an application_type: a native (e.g. MCP desktop) client.
    applicationType: oneOf(
      body.application_type,
      "application_type",
      ["web", "native"] as const,
      allLoopback(redirectUris) ? "native" : "web",
    ),
    tokenEndpointAuthMethod,
    redirectUris,
    postLogoutRedirectUris: validatePostLogoutRedirectUris(body.post_logout_redirect_uris),
    grantTypes,
    scopes: registrationScopes(body.scope),
    idTokenSignedResponseAlg: idTokenSigningAlg(body.id_token_signed_response_alg) ?? DEFAULT_ID_TOKEN_SIGNING_ALG,
    metadata: { ...descriptiveMetadata(body), ...keyMetadata(body, tokenEndpointAuthMethod, options) },
  };
}
