/**
 * The device authorization grant's pages for people (RFC 8628 §3.3):
 *   GET  /device[?user_code=…]   sign in if needed (return_to), then the code form
 *   POST /device                 the typed code (rate-limited per session and per IP) → the consent page
 *   POST /device/decision        allow or deny (CSRF-protected) → "go back to your device"
 * The rules live in oauth/device-approval.ts; the consent page is the authorization endpoint's.
 */
import { type Context, Hono } from "hono";
import {
  consumeUserCodeEntry,
  type DeviceRequest,
  decideDeviceRequest,
  deviceConsent,
  findDeviceRequest,
} from "../oauth/device-approval";
import { OAuthError } from "../oauth/errors";
import { consentDecisionOf } from "../oauth/scope-groups";
import { formatUserCode, normalizeUserCode } from "../oauth/user-code";
import { ConsentPage, consentScopes } from "../pages/consent";
import { DeviceAnsweredPage, DeviceCodePage } from "../pages/device";
import { renderErrorPage, renderPage } from "../pages/render";
import { type AppEnv, clientIp, countersOf, useCaseContext } from "./context";
import type { FormFields } from "./form-fields";
import { checkedPageForm } from "./page-form";
import { pageHeaders } from "./page-headers";
import { type BrowserSession, csrfToken, currentSession } from "./session";

type Ctx = Context<AppEnv>;

export const deviceRoutes = new Hono<AppEnv>();
deviceRoutes.use("/device", pageHeaders);
deviceRoutes.use("/device/*", pageHeaders);

/** Sign in first, then come back here with the code still filled in (the existing return_to mechanism). */
function toSignIn(c: Ctx, typed: string | undefined): Response {
  const code = normalizeUserCode(typed);
  const back = code ? `/device?${new URLSearchParams({ user_code: formatUserCode(code) })}` : "/device";
  return c.redirect(`/signin?${new URLSearchParams({ return_to: back })}`, 303);
}

/** A posted form (CSRF-checked) and the person signed in, or what to answer instead. */
async function signedInForm(c: Ctx): Promise<{ form: FormFields; session: BrowserSession } | { answer: Response }> {
  const checked = await checkedPageForm(c);
  if (!checked.ok) return { answer: checked.page };
  const { form } = checked;
  const session = await currentSession(c);
  if (!session) return { answer: toSignIn(c, form.get("user_code")) };
  return { form, session };
}

function codePage(c: Ctx, session: BrowserSession, extra: { code?: string; error?: string; status?: number } = {}) {
  const page = DeviceCodePage({
    code: extra.code,
    error: extra.error,
    userEmail: session.user.email ?? "",
    csrf: csrfToken(c),
  });
  return renderPage(c, page, extra.status ?? 200);
}

deviceRoutes.get("/device", async (c) => {
  const typed = c.req.query("user_code");
  const session = await currentSession(c);
  if (!session) return toSignIn(c, typed);
  // RFC 8628 §3.3.1: the complete URI prefills the code; the person still confirms it (§5.4).
  const code = normalizeUserCode(typed);
  return codePage(c, session, { code: code ? formatUserCode(code) : undefined });
});

deviceRoutes.post("/device", async (c) => {
  const posted = await signedInForm(c);
  if ("answer" in posted) return posted.answer;
  const { form, session } = posted;
  const typed = (form.get("user_code") ?? "").slice(0, 40);
  // RFC 8628 §5.1: every attempt counts before the code is looked at, right or wrong.
  const quota = await consumeUserCodeEntry(countersOf(c), session.idHash, clientIp(c));
  if (!quota.allowed) {
    c.header("Retry-After", String(quota.retryAfter));
    const minutes = Math.ceil(quota.retryAfter / 60);
    const error = `Too many codes were tried. Wait ${minutes} minute${minutes === 1 ? "" : "s"} and try again.`;
    return codePage(c, session, { code: typed, error, status: 429 });
  }
  const code = normalizeUserCode(typed);
  const request = code ? await findDeviceRequest(c.env, c.get("settings"), code) : null;
  if (!request) {
    const error = code
      ? "That code is not valid: it may have expired or been used. Check the device, or start again there."
      : "A code has eight letters and digits, like ABCD-EFGH.";
    return codePage(c, session, { code: typed, error, status: 400 });
  }
  return showDeviceConsent(c, session, request);
});

async function showDeviceConsent(c: Ctx, session: BrowserSession, request: DeviceRequest): Promise<Response> {
  const { client, pending } = request;
  let shown: Awaited<ReturnType<typeof deviceConsent>>;
  try {
    shown = await deviceConsent(useCaseContext(c), session, request);
  } catch (e) {
    return refusedPage(c, e);
  }
  const page = ConsentPage({
    clientName: client.name,
    clientId: client.id,
    clientOrigin: client.origin,
    redirectHost: "",
    localhostOnlyRedirect: false,
    deviceUserCode: formatUserCode(request.userCode),
    logoUri: typeof client.metadata.logo_uri === "string" ? client.metadata.logo_uri : undefined,
    userEmail: session.user.email ?? "",
    teamName: shown.membership.teamName,
    roles: shown.membership,
    scopes: consentScopes(pending.scopes, shown.grantable, shown.consented),
    action: "/device/decision",
    // `request` pins the answer to the request shown here, not to a later one under the same code.
    hidden: { user_code: request.userCode, request: pending.deviceCodeHash },
    csrf: csrfToken(c),
  });
  return renderPage(c, page);
}

deviceRoutes.post("/device/decision", async (c) => {
  const posted = await signedInForm(c);
  if ("answer" in posted) return posted.answer;
  const { form, session } = posted;
  const code = normalizeUserCode(form.get("user_code"));
  const request = code ? await findDeviceRequest(c.env, c.get("settings"), code) : null;
  if (!request) {
    return renderErrorPage(c, {
      title: "Code no longer valid",
      message: "This code has expired or was already answered. Start again on the device.",
      status: 400,
      next: { href: "/device", label: "Enter another code" },
    });
  }
  try {
    const answer = await decideDeviceRequest(
      useCaseContext(c),
      session,
      request,
      form.get("request") ?? "",
      // The consent form as the authorization endpoint reads it: area switches and per-scope boxes.
      consentDecisionOf(form),
    );
    return renderPage(c, DeviceAnsweredPage({ clientName: request.client.name, approved: answer === "approved" }));
  } catch (e) {
    return refusedPage(c, e);
  }
});

/** A refusal from the rules (another team's app, a code answered meanwhile) as a page. */
function refusedPage(c: Ctx, error: unknown): Response {
  if (!(error instanceof OAuthError) || error.status >= 500) throw error;
  return renderErrorPage(c, {
    title: "This device cannot be connected",
    message: `${error.description.charAt(0).toUpperCase()}${error.description.slice(1)}.`,
    status: 400,
    next: { href: "/device", label: "Enter another code" },
  });
}
