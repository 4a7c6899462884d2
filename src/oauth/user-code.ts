/**
 * User codes of the device authorization grant (RFC 8628 §6.1): 8 characters from a 32-character
 * alphabet — 40 bits — shown as XXXX-XXXX, typed case-insensitively with or without the dash.
 * The alphabet is RFC 4648 base32 (A–Z, 2–7): no 0/O, no 1/I/L confusion between digits and
 * letters, and no 8/B. docs/security.md sets the entry rate limit against this code space.
 */

export const USER_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export const USER_CODE_LENGTH = 8;

/** A new code, normalized (no dash), uniformly random: 256 is a multiple of 32, so no bias. */
export function newUserCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(USER_CODE_LENGTH));
  return Array.from(bytes, (b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join("");
}

/** XXXX-XXXX, as shown to people (RFC 8628 §6.1: the dash helps reading; it is not part of the code). */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What a person typed, normalized: upper case, spaces and dashes dropped. Null when it cannot be
 * a code of ours (wrong length or characters); such input never reaches storage.
 */
export function normalizeUserCode(typed: string | undefined | null): string | null {
  if (typeof typed !== "string" || typed.length > 40) return null;
  const code = typed.toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== USER_CODE_LENGTH) return null;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return null;
  return code;
}
