/**
 * Size limits of everything a caller sends, in one place. Each is far above any legitimate value and
 * low enough that an oversized input is refused before it costs anything (README "Known limits",
 * docs/security.md "Hostile input"), and the rate of user-code entry at /device (docs/security.md
 * "Device user codes").
 */

/** Every request body (forms and JSON): refused with 413 before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The longest client_id: a Client ID Metadata Document URL (draft-ietf-oauth-client-id-metadata-document
 * §3 suggests a bound). Longer ids are refused before any lookup.
 */
export const MAX_CLIENT_ID_LENGTH = 2048;

/** Registered client ids are short random tokens; a longer one is unknown without a D1 read. */
export const MAX_REGISTERED_CLIENT_ID_LENGTH = 512;

/** Any one authorization request parameter, and a `resource` URI (RFC 8707). */
export const MAX_PARAMETER_LENGTH = 2048;

/** A client ID Metadata Document (draft §3: the document is small). */
export const MAX_METADATA_DOCUMENT_BYTES = 5 * 1024;

/** An id_token_hint at the end-session endpoint: an ID token fits in 8 KiB (other parameters: MAX_PARAMETER_LENGTH). */
export const MAX_ID_TOKEN_HINT_LENGTH = 8 * 1024;

/**
 * User-code entry at /device (RFC 8628 §5.1): every submission counts, right or wrong. A user code
 * has 40 bits, so guessing is hopeless at these rates (docs/security.md does the arithmetic).
 */
export const USER_CODE_ENTRY_LIMITS = {
  perSession: { limit: 10, windowSeconds: 15 * 60 },
  perIp: { limit: 50, windowSeconds: 3600 },
} as const;
