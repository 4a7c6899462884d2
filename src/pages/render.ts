/**
 * Every HTML page goes out through renderPage: the security headers, the status, the markup. It takes
 * any Hono context (routes with richer Variables, like the settings pages, use it too).
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ErrorPage, type ErrorPageProps } from "./error";
import { type PageOptions, pageSecurityHeaders } from "./security-headers";

/** A rendered hono/jsx element (our page components are synchronous). */
type Page = { toString(): string | Promise<string> };

/**
 * Renders a page with the page security headers. `options.formTargets`: where the page's form may
 * be redirected after it is posted — the consent page passes the client's redirect URI so CSP
 * form-action allows the way back to the client (Chromium enforces form-action on those redirects).
 */
export function renderPage(c: Context, page: Page, status = 200, options: PageOptions = {}): Response {
  const html = page.toString();
  if (html instanceof Promise) throw new Error("page components must be synchronous");
  for (const [name, value] of Object.entries(pageSecurityHeaders(options))) c.header(name, value);
  return c.html(String(html), status as ContentfulStatusCode);
}

/** The page for a form larger than the body limit (413). */
export function formTooLarge(c: Context): Response {
  return renderErrorPage(c, { title: "Request too large", message: "That form was too large.", status: 413 });
}

/** An ErrorPage with its status: for bad links and refused requests (never a redirect). */
export function renderErrorPage(c: Context, props: ErrorPageProps & { status: number }): Response {
  return renderPage(c, ErrorPage(props), props.status);
}
