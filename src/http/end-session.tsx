/**
 * GET and POST /oauth/end_session (OpenID Connect RP-Initiated Logout 1.0 §2–§3): the rules are in
 * oauth/end-session.ts; this file ends the browser session — at once when the request is verified,
 * after a CSRF-protected "sign out?" page otherwise — and then redirects with `state` or shows the
 * signed-out page.
 */
import type { Context } from "hono";
import {
  checkLogoutRequest,
  LOGOUT_PARAMETERS,
  type LogoutParams,
  type LogoutRequest,
  LogoutRequestError,
  needsConfirmation,
  readLogoutParams,
} from "../oauth/end-session";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { LogoutConfirmPage, SignedOutPage } from "../pages/logout";
import { renderErrorPage, renderPage } from "../pages/render";
import { recordSignOut } from "../signin/sign-out";
import { dbOf } from "../store/db";
import { keysetOf } from "../tokens/signing-keys";
import { type AppEnv, clientIp, readFormParams } from "./context";
import { formExpired } from "./page-form";
import { type BrowserSession, csrfToken, currentSession, endSession, isCsrfValid } from "./session";

type Ctx = Context<AppEnv>;

/** §2: GET carries the query string, POST form serialization (the one body reader and its limit). */
async function readSource(c: Ctx): Promise<URLSearchParams> {
  return c.req.method === "GET" ? new URL(c.req.url).searchParams : readFormParams(c);
}

export async function handleEndSession(c: Ctx): Promise<Response> {
  const source = await readSource(c);
  let params: LogoutParams;
  let request: LogoutRequest;
  try {
    params = readLogoutParams(source);
    const db = dbOf(c.env.DB);
    request = await checkLogoutRequest(c.env, c.get("settings"), () => keysetOf(db, c.get("settings")), params);
  } catch (e) {
    if (!(e instanceof LogoutRequestError)) throw e;
    return renderErrorPage(c, { title: "Cannot sign out from this link", message: e.message, status: 400 });
  }
  const session = await currentSession(c);
  if (session) {
    const confirmed = c.req.method === "POST" && source.get("confirm") === "yes";
    if (confirmed && !isCsrfValid(c, source.get("csrf") ?? undefined)) return formExpired(c);
    if (!confirmed && needsConfirmation(request, session.user)) return confirmPage(c, session, params, request);
    await signOut(c, session, request);
  }
  // §3: back to the registered URI with state; without one, our own signed-out page.
  if (request.redirectTo) return c.redirect(request.redirectTo, 303);
  return renderPage(c, SignedOutPage());
}

function confirmPage(c: Ctx, session: BrowserSession, params: LogoutParams, request: LogoutRequest): Response {
  const hidden: Record<string, string> = {};
  for (const name of LOGOUT_PARAMETERS) {
    const value = params[name];
    if (value !== undefined) hidden[name] = value;
  }
  const page = LogoutConfirmPage({
    userEmail: session.user.email ?? "",
    clientName: request.client?.name,
    action: ENDPOINT_PATHS.endSession,
    hidden,
    csrf: csrfToken(c),
  });
  // The confirmed form ends in a redirect to the app: CSP form-action must allow it (page-headers.ts).
  return renderPage(c, page, 200, { formTargets: request.redirectTo ? [request.redirectTo] : [] });
}

async function signOut(c: Ctx, session: BrowserSession, request: LogoutRequest): Promise<void> {
  await endSession(c);
  await recordSignOut(dbOf(c.env.DB), session.user.id, clientIp(c), "rp_initiated_logout", request.client?.id ?? null);
}
