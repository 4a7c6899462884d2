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
import { recordAudit } from "../store/audit";
import { dbOf } from "../store/db";
import { listMemberships } from "../store/users";
import { keysetOf } from "../tokens/signing-keys";
import type { AppEnv } from "./context";
import { MAX_FORM_BYTES, readBoundedText } from "./form";
import { type BrowserSession, csrfToken, currentSession, endSession, isCsrfValid } from "./session";

type Ctx = Context<AppEnv>;

async function readSource(c: Ctx): Promise<URLSearchParams> {
  if (c.req.method === "GET") return new URL(c.req.url).searchParams;
  // §2: POST uses form serialization.
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
    return new URLSearchParams();
  }
  return new URLSearchParams(await readBoundedText(c, MAX_FORM_BYTES));
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
    if (confirmed && !isCsrfValid(c, source.get("csrf") ?? undefined)) {
      return renderErrorPage(c, {
        title: "Form expired",
        message: "This form could not be verified (it may be old, or sent from another site). Reload and try again.",
        status: 403,
      });
    }
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
  const db = dbOf(c.env.DB);
  const [team] = await listMemberships(db, session.user.id);
  await recordAudit(db, {
    kind: "signout",
    teamId: team?.teamId ?? null,
    actorUserId: session.user.id,
    clientId: request.client?.id ?? null,
    ip: c.req.header("CF-Connecting-IP") ?? null,
    detail: { via: "rp_initiated_logout" },
  });
}
