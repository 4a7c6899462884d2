/**
 * The page security headers (pages/security-headers.ts) on everything a page route answers:
 * redirects and 404s too. Pages themselves go out through renderPage (pages/render.ts).
 */
import type { MiddlewareHandler } from "hono";
import { pageSecurityHeaders } from "../pages/security-headers";
import type { AppEnv } from "./context";

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
