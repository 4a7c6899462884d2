/**
 * Sign-in without passwords, and sign-out:
 *   GET  /signin?return_to=…&login_hint=…&prompt=login   the page
 *   POST /signin/dev                                      dev sign-in (only with settings.devSignIn)
 *   GET  /signin/upstream?return_to=…&login_hint=…        off to the upstream OpenID provider
 *   GET  /signin/callback                                 back from it
 *   POST /signout
 * Every form carries a CSRF token; every answer carries the page security headers and never CORS.
 */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { publishHolder } from "../oauth/holder";
import { renderErrorPage, renderPage } from "../pages/render";
import { SignInPage, type SignInPageProps } from "../pages/signin";
import { safeReturnTo } from "../signin/return-to";
import { endEverySession, recordSignOut } from "../signin/sign-out";
import { provisionDevUser, provisionUpstreamUser, type SignedInPerson } from "../signin/teams";
import {
  beginUpstreamSignIn,
  completeUpstreamSignIn,
  PENDING_SIGNIN_SECONDS,
  UpstreamSignInError,
  upstreamDisplayName,
} from "../signin/upstream";
import { recordAudit } from "../store/audit";
import { dbOf } from "../store/db";
import { stampSignIn } from "../store/users";
import { type AppEnv, clientIp } from "./context";
import { checkedPageForm } from "./page-form";
import { pageHeaders } from "./page-headers";
import { csrfToken, currentSession, endSession, startSession } from "./session";

export const signInRoutes = new Hono<AppEnv>();

type PageContext = Context<AppEnv>;

const notFound = (c: PageContext) =>
  renderErrorPage(c, { title: "Page not found", message: "There is no page at this address.", status: 404 });

/** Printable, trimmed, bounded: what may come back into a page or a stored name. */
function cleanText(value: unknown, max: number): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.replace(/[\x00-\x1f\x7f]/g, "").trim();
  return text && text.length <= max ? text : undefined;
}

const isEmail = (value: string) => value.length <= 254 && /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(value);

/** Both cookies of a sign-in in progress and of the session follow the issuer's scheme. */
function pendingCookie(c: PageContext) {
  const secure = c.get("settings").issuerUrl.protocol === "https:";
  return { name: secure ? "__Host-eoidc_upstream" : "eoidc_upstream", secure };
}

function signInPageProps(c: PageContext, query: Record<string, string | undefined>): SignInPageProps {
  const settings = c.get("settings");
  return {
    returnTo: safeReturnTo(query.return_to),
    loginHint: cleanText(query.login_hint, 254),
    forceLogin: (query.prompt ?? "").split(" ").includes("login"),
    upstreamName: settings.upstream ? upstreamDisplayName(settings.upstream) : undefined,
    devSignIn: settings.devSignIn,
    csrf: csrfToken(c),
  };
}

signInRoutes.get("/signin", pageHeaders, async (c) => {
  const props = signInPageProps(c, c.req.query());
  // Never redirect a signed-in visitor onward by ourselves: prompt=login and max_age would loop.
  const session = props.forceLogin ? null : await currentSession(c);
  return renderPage(c, SignInPage({ ...props, signedInAs: session?.user.email ?? undefined }));
});

signInRoutes.post("/signin/dev", pageHeaders, async (c) => {
  if (!c.get("settings").devSignIn) return notFound(c);
  const checked = await checkedPageForm(c);
  if (!checked.ok) return checked.page;
  const { form } = checked;
  const email = (form.get("email") ?? "").trim().toLowerCase();
  const name = cleanText(form.get("name"), 100) ?? null;
  if (!isEmail(email)) {
    const props = signInPageProps(c, { return_to: form.get("return_to") });
    const error = "Enter an email address such as name@example.com.";
    return renderPage(
      c,
      SignInPage({ ...props, loginHint: cleanText(form.get("email"), 254), name: name ?? "", error }),
      400,
    );
  }
  const person = await provisionDevUser(dbOf(c.env.DB), { email, name });
  return finishSignIn(c, person, "dev", safeReturnTo(form.get("return_to")));
});

signInRoutes.get("/signin/upstream", pageHeaders, async (c) => {
  const { upstream } = c.get("settings");
  if (!upstream) return notFound(c);
  const props = signInPageProps(c, c.req.query());
  let started: { location: string; pending: string };
  try {
    started = await beginUpstreamSignIn(c.get("settings"), upstream, props);
  } catch (err) {
    console.error(`upstream sign-in could not start: ${err instanceof Error ? `${err.name}: ${err.message}` : err}`);
    return renderErrorPage(c, {
      title: "Sign-in is unavailable",
      message: `${upstreamDisplayName(upstream)} could not be reached. Please try again in a moment.`,
      status: 502,
    });
  }
  const cookie = pendingCookie(c);
  setCookie(c, cookie.name, started.pending, {
    path: "/",
    httpOnly: true,
    secure: cookie.secure,
    sameSite: "Lax",
    maxAge: PENDING_SIGNIN_SECONDS,
  });
  return c.redirect(started.location, 302);
});

signInRoutes.get("/signin/callback", pageHeaders, async (c) => {
  const settings = c.get("settings");
  if (!settings.upstream) return notFound(c);
  const cookie = pendingCookie(c);
  const pending = getCookie(c, cookie.name);
  // One use only: whatever happens next, this sign-in attempt is over.
  deleteCookie(c, cookie.name, { path: "/", secure: cookie.secure });
  let completed: Awaited<ReturnType<typeof completeUpstreamSignIn>>;
  try {
    completed = await completeUpstreamSignIn(settings, settings.upstream, new URL(c.req.url), pending);
  } catch (err) {
    const known = err instanceof UpstreamSignInError;
    // Name and message only: error objects from the JWT checks carry the person's claims.
    if (!known) console.error(`upstream sign-in failed: ${err instanceof Error ? `${err.name}: ${err.message}` : err}`);
    return renderErrorPage(c, {
      title: "Sign-in failed",
      message: known
        ? err.message
        : `The answer from ${upstreamDisplayName(settings.upstream)} could not be verified. Please sign in again.`,
      status: known ? (err.reason === "email_unverified" ? 403 : 400) : 502,
      next: { href: "/signin", label: "Sign in again" },
    });
  }
  const { identity, returnTo } = completed;
  const person = await provisionUpstreamUser(
    dbOf(c.env.DB),
    { email: identity.email, name: identity.name },
    identity.organization,
  );
  return finishSignIn(c, person, "upstream", returnTo);
});

signInRoutes.post("/signout", pageHeaders, async (c) => {
  const checked = await checkedPageForm(c);
  if (!checked.ok) return checked.page;
  const session = await currentSession(c);
  await endSession(c);
  if (session) await recordSignOut(dbOf(c.env.DB), session.user.id, clientIp(c), "this_browser");
  return c.redirect("/signin", 303);
});

/**
 * "Sign out everywhere": every browser session of the person ends, this one included (README
 * "Administration"). Tokens already issued to apps are not touched; connected apps revokes those.
 */
signInRoutes.post("/signout/everywhere", pageHeaders, async (c) => {
  const checked = await checkedPageForm(c);
  if (!checked.ok) return checked.page;
  const session = await currentSession(c);
  if (session) {
    await endEverySession(dbOf(c.env.DB), session.user.id, clientIp(c));
    await endSession(c);
  }
  return c.redirect("/signin", 303);
});

/**
 * The person's UserGrants object learns what D1 now says about them (new user, new team, new name,
 * invitations used) before anything else; then a fresh session (never reuse one across a sign-in:
 * session fixation), the audit events, then onward.
 */
async function finishSignIn(c: PageContext, person: SignedInPerson, method: "dev" | "upstream", returnTo: string) {
  const db = dbOf(c.env.DB);
  const ip = clientIp(c);
  await publishHolder(c.env, person.user.id);
  if (await currentSession(c)) await endSession(c);
  await startSession(c, person.user.id);
  await stampSignIn(db, person.user.id, Date.now());
  for (const invitation of person.joined) {
    await recordAudit(db, {
      kind: "member.joined",
      teamId: invitation.teamId,
      actorUserId: person.user.id,
      ip,
      detail: {
        user_id: person.user.id,
        email: invitation.email,
        invitation_id: invitation.id,
        invited_by: invitation.invitedBy,
        to: { role: invitation.role, on_call_role: invitation.onCallRole },
      },
    });
  }
  await recordAudit(db, {
    kind: "signin",
    teamId: person.teamId,
    actorUserId: person.user.id,
    ip,
    detail: { method, ...(person.created ? { newUser: true } : {}) },
  });
  return c.redirect(returnTo, 303);
}
