/**
 * Redirect URI rules, shared by registration (RFC 7591), authorization and the token endpoint:
 * https only, except http on the loopback hosts (RFC 8252 §7.3); no fragment (RFC 6749 §3.1.2);
 * exact string matching (RFC 9700 §4.1.3), where only a loopback redirect URI's port may vary.
 */
import { isLoopbackHost } from "../config";
import { OAuthError } from "./errors";

/** Lower-case DNS labels or an IPv4 address; `*` and other characters WHATWG tolerates are refused. */
const HOSTNAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/;

const MAX_LENGTH = 2000;

function refuse(why: string): never {
  throw new OAuthError("invalid_redirect_uri", `redirect_uri ${why}`);
}

/**
 * Returns `uri` unchanged when it may be registered or used; throws `invalid_redirect_uri` otherwise.
 *
 * Besides the scheme, host and fragment rules, the URI must be printable ASCII (no whitespace, control
 * characters, fullwidth forms or Unicode hosts — the homograph tricks) and already in the form the
 * WHATWG URL parser would print. That last rule is what makes exact string matching safe: a string
 * that a browser would rewrite (`https:evil.com`, `http://0x7f.1`, `HTTPS://A.COM`, `a.com:443`,
 * a backslash) cannot be registered, so what was compared is what the browser navigates to.
 */
export function validateRedirectUri(uri: string): string {
  if (typeof uri !== "string" || uri.length === 0) refuse("must be a non-empty string");
  if (uri.length > MAX_LENGTH) refuse(`must be at most ${MAX_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(uri)) refuse("must be printable ASCII with no spaces (no Unicode or control characters)");
  if (uri.includes("#")) refuse("must not contain a fragment (RFC 6749 §3.1.2)");
  if (uri.includes("\\")) refuse("must not contain a backslash");
  const url = URL.parse(uri);
  if (!url) refuse("is not an absolute URL");
  if (url.username || url.password) refuse("must not contain userinfo (user@host)");
  if (url.protocol === "http:") {
    if (!isLoopbackHost(url.hostname)) {
      refuse("must use https; http is allowed only on 127.0.0.1, [::1] and localhost (RFC 8252 §7.3)");
    }
  } else if (url.protocol !== "https:") {
    refuse("must use https (or http on a loopback host)");
  }
  if (url.hostname !== "[::1]" && !HOSTNAME.test(url.hostname)) refuse("has a host name that is not allowed");
  // `https://a.com` prints as `https://a.com/`: both spellings are accepted, nothing else.
  if (url.href !== uri && url.href !== `${uri}/`) {
    refuse(`must be written in canonical form (${url.href.slice(0, 200)})`);
  }
  return uri;
}

/** An http redirect URI on a loopback host: the kind a native app uses (RFC 8252 §7.3). */
export function isLoopbackRedirectUri(uri: string): boolean {
  const url = URL.parse(uri);
  return url?.protocol === "http:" && isLoopbackHost(url.hostname);
}

function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  try {
    validateRedirectUri(uri);
  } catch {
    return undefined;
  }
  if (!isLoopbackRedirectUri(uri)) return undefined;
  const url = new URL(uri);
  return { host: url.hostname, rest: `${url.pathname}${url.search}` };
}

/**
 * Whether `requested` is one of the client's registered redirect URIs: exact string match (RFC 9700
 * §4.1.3), except that a loopback http redirect URI matches on any port (RFC 8252 §7.3) — native apps
 * get an ephemeral port from the OS. Host, path and query must still match exactly.
 */
export function matchesRegisteredRedirectUri(registered: readonly string[], requested: string): boolean {
  if (typeof requested !== "string") return false;
  if (registered.includes(requested)) return true;
  const wanted = loopbackParts(requested);
  if (!wanted) return false;
  return registered.some((candidate) => {
    const parts = loopbackParts(candidate);
    return parts !== undefined && parts.host === wanted.host && parts.rest === wanted.rest;
  });
}
