/**
 * Where to send the browser after sign-in: only a path on this origin, so a crafted link cannot turn
 * the sign-in page into an open redirector (RFC 9700 §4.11).
 */

const MAX_RETURN_TO = 4096;

/** A same-origin relative path ("/…", not "//…" or "/\…", no scheme, no control characters), else "/". */
export function safeReturnTo(raw: unknown): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_RETURN_TO) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  // Browsers drop tabs and newlines inside URLs and treat "\" as "/", so "/\t/evil" is "//evil".
  if (/[\x00-\x20\x7f\\]/.test(raw)) return "/";
  // Resolving against a dummy origin must keep the origin: catches anything the checks above missed.
  const base = "https://return-to.invalid";
  try {
    const url = new URL(raw, base);
    if (url.origin !== base) return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}
