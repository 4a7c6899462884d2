/**
 * The one place that builds discovery metadata: RFC 8414 authorization server metadata and OpenID
 * Connect Discovery 1.0 §3. Both documents carry the configured issuer byte for byte.
 */
import type { Settings } from "../config";
import { DEVICE_CODE_GRANT_TYPE } from "./grant-types";
import { ALL_SCOPES } from "./scopes";
import { CLIENT_ASSERTION_SIGNING_ALGS, DPOP_SIGNING_ALGS, ID_TOKEN_SIGNING_ALGS } from "./signing-algorithms";

export const ENDPOINT_PATHS = {
  authorization: "/oauth/authorize",
  token: "/oauth/token",
  introspection: "/oauth/introspect",
  revocation: "/oauth/revoke",
  userinfo: "/oauth/userinfo",
  registration: "/oauth/register",
  jwks: "/oauth/discovery/keys",
  deviceAuthorization: "/oauth/device_authorization",
  endSession: "/oauth/end_session",
} as const;

export const CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;

/** Endpoints live at the issuer's origin plus the fixed paths README "Endpoints" lists. */
export function endpointUrl(settings: Settings, path: string): string {
  return `${settings.issuerUrl.origin}${path}`;
}

export function authorizationServerMetadata(settings: Settings): Record<string, unknown> {
  const url = (p: string) => endpointUrl(settings, p);
  return {
    issuer: settings.issuer,
    authorization_endpoint: url(ENDPOINT_PATHS.authorization),
    token_endpoint: url(ENDPOINT_PATHS.token),
    jwks_uri: url(ENDPOINT_PATHS.jwks),
    registration_endpoint: url(ENDPOINT_PATHS.registration),
    introspection_endpoint: url(ENDPOINT_PATHS.introspection),
    revocation_endpoint: url(ENDPOINT_PATHS.revocation),
    userinfo_endpoint: url(ENDPOINT_PATHS.userinfo),
    device_authorization_endpoint: url(ENDPOINT_PATHS.deviceAuthorization),
    scopes_supported: [...ALL_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT_TYPE],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    // RFC 8414 §2: the algorithms private_key_jwt assertions may be signed with (RFC 7523).
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_SIGNING_ALGS],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_SIGNING_ALGS],
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_SIGNING_ALGS],
    // RFC 9449 §5.1.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
    // OAuth 2.1 / RFC 9700 §2.1.1: PKCE for everyone; no implicit grant.
    require_pushed_authorization_requests: false,
    service_documentation: `${settings.issuerUrl.origin}/`,
    ui_locales_supported: ["en"],
  };
}

export function openIdConfiguration(settings: Settings): Record<string, unknown> {
  return {
    ...authorizationServerMetadata(settings),
    // OpenID Connect RP-Initiated Logout 1.0 §2.1.
    end_session_endpoint: endpointUrl(settings, ENDPOINT_PATHS.endSession),
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [...ID_TOKEN_SIGNING_ALGS],
    userinfo_signing_alg_values_supported: ["none"],
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "nonce",
      "at_hash",
      "email",
      "name",
      "team_id",
      "role",
      "on_call_role",
    ],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ["none", "login", "consent"],
  };
}

/**
 * Every path a client may probe for a document of `suffix` (RFC 8414 §3.1: path-inserted;
 * OIDC Discovery §4: path-appended; and the root form).
 */
export function wellKnownPaths(settings: Settings, suffix: string): string[] {
  const issuerPath = settings.issuerUrl.pathname.replace(/\/$/, "");
  const paths = [`/.well-known/${suffix}`];
  if (issuerPath) paths.push(`/.well-known/${suffix}${issuerPath}`, `${issuerPath}/.well-known/${suffix}`);
  return paths;
}
