/**
 * The JWS algorithms of each signature this server checks or makes, one list each.
 *
 * The JWS algorithms accepted for DPoP proofs (RFC 9449 §5.1 `dpop_signing_alg_values_supported`,
 * §7.1 the `algs` challenge parameter) and for private_key_jwt client assertions (RFC 8414 §2
 * `token_endpoint_auth_signing_alg_values_supported`). Asymmetric only: "none" and HMAC are never
 * accepted (RFC 9449 §4.2; a client assertion under a shared secret would be client_secret_jwt).
 * "Ed25519" is the fully specified name for EdDSA over Ed25519 (RFC 9864); both are accepted.
 */
export const DPOP_SIGNING_ALGS = ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"] as const;

export const CLIENT_ASSERTION_SIGNING_ALGS = ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"] as const;

/**
 * What this server signs ID tokens with, per client (`id_token_signed_response_alg`, OIDC Dynamic
 * Client Registration §2: RS256 when the client names none). The server holds a key of each.
 */
export const ID_TOKEN_SIGNING_ALGS = ["RS256", "ES256"] as const;
export type IdTokenSigningAlg = (typeof ID_TOKEN_SIGNING_ALGS)[number];
/** For a client that names none: what OpenID Connect libraries expect unless told otherwise. */
export const DEFAULT_ID_TOKEN_SIGNING_ALG: IdTokenSigningAlg = "RS256";
