/**
 * Security headers of every HTML page. Pages run no script, load styles and images only as the
 * policy says, can never be framed (clickjacking of the consent and sign-in forms), are never
 * cached, and never answer CORS. renderPage (render.ts) sets them; the pageHeaders middleware
 * (http/page-headers.ts) adds them to whatever else a page route answers.
 */

export interface PageOptions {
  /**
   * URLs where a form on this page may end up after the server redirects it: Chromium applies
   * CSP form-action to redirects that follow a form submission, so the consent page must list the
   * client's redirect URI here or the browser blocks the way back to the client.
   */
  formTargets?: readonly string[];
}

/** The CSP form-action source for one redirect target, or undefined when none can be written. */
export function formActionSource(target: string): string | undefined {
  const url = URL.parse(target);
  if (!url) return undefined;
  if (url.protocol === "http:" || url.protocol === "https:") {
    // CSP host-source has no syntax for IPv6 literals ([::1]): fall back to the scheme.
    return url.hostname.startsWith("[") ? url.protocol : url.origin;
  }
  // A native app's private-use scheme (RFC 8252 §7.1), e.g. "com.example.app:".
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
}

export function contentSecurityPolicy(options: PageOptions = {}): string {
  const targets = (options.formTargets ?? []).map(formActionSource).filter((s): s is string => !!s);
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' https: data:",
    `form-action ${["'self'", ...new Set(targets)].join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

export function pageSecurityHeaders(options: PageOptions = {}): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(options),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    // Not no-referrer: under it Chromium sends `Origin: null` on our own form posts (Fetch §3.1,
    // "append a request Origin header"), which the CSRF Origin check must refuse. same-origin still
    // sends nothing to any other site, so authorization URLs never leak.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
}
