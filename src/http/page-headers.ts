/**
 * Security headers of every HTML page, and the one function that renders a page. Pages run no
 * script, load styles and images only as the policy says, can never be framed (clickjacking of the
 * consent and sign-in forms), are never cached, and never answer CORS. Pages themselves go out
 * through renderPage (src/pages/render.ts), which sets these headers.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";

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
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
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

/**
 * Middleware for page routes: adds the headers to whatever the handler answered (pages, redirects,
 * 404s) unless the handler set them itself (renderPage with a page-specific form-action).
 */
export const pageHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(pageSecurityHeaders())) {
    if (!c.res.headers.has(name)) c.res.headers.set(name, value);
  }
};
