/**
 * Where to send the browser after sign-in: only a path on this origin, so a crafted link cannot turn
 * the sign-in page into an open redirector (RFC 9700 §4.11).
 */

const MAX_RETURN_TO = 4096;
const BASE = "https://return-to.invalid";

/**
 * A same-origin relative path, else "/". The value is checked after it has been normalised (dot
 * segments removed, as the browser will), because "/.//evil.example" normalises to
 * "//evil.example", a network-path reference to another origin (RFC 3986 §4.2, §5.2.4).
 */
export function safeReturnTo(raw: unknown): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_RETURN_TO) return "/";
  // Browsers drop tabs and newlines inside URLs and treat "\" as "/", so "/\t/evil" is "//evil".
  if (!raw.startsWith("/") || /[\x00-\x20\x7f\\]/.test(raw)) return "/";
  const url = URL.parse(raw, BASE);
  if (!url) return "/";
  const path = url.pathname;
  // Encoded dots, slashes and backslashes in the path have no use in our own links, and a later
  // decoding step could turn them into dot segments or "//".
  if (url.origin !== BASE || path.startsWith("//") || /%(2e|2f|5c)/i.test(path)) return "/";
  return `${path}${url.search}${url.hash}`;
}
