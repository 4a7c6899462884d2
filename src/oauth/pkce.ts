/** PKCE (RFC 7636), S256 only: OAuth 2.1 and RFC 9700 §2.1.1 make plain unnecessary. */

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge is BASE64URL of a 32-byte digest: exactly 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export const isValidCodeVerifier = (v: string) => VERIFIER.test(v);
export const isValidS256Challenge = (c: string) => S256_CHALLENGE.test(c);
