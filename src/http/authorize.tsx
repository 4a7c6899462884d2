/**
 * GET/POST /oauth/authorize and POST /oauth/authorize/decision (RFC 6749 §4.1.1–4.1.2, OIDC Core
 * §3.1.2). The rules and use cases live in oauth/authorization-request.ts and oauth/authorization.ts;
 * this file reads the request, sends the person to sign in or shows the consent page, and sends
 * the answer back to the client.
 */
import type { Context } from "hono";
import { isLoopbackHost } from "../config";
import { MAX_PARAMETER_LENGTH } from "../limits";
import { authorize, type CheckedRequest, checkRequest, decideConsent, type Membership } from "../oauth/authorization";
import {
  AUTHORIZATION_PARAMETERS,
  type AuthorizationParams,
  type AuthorizationRequest,
  authorizationResponseUrl,
  readAuthorizationParams,
} from "../oauth/authorization-request";
import { OAuthError } from "../oauth/errors";
import { consentDecisionOf } from "../oauth/scope-groups";
import { ConsentPage, consentScopes } from "../pages/consent";
import { ErrorPage } from "../pages/error";
import { renderPage } from "../pages/render";
import { type AppEnv, readFormParams, useCaseContext } from "./context";
import { type BrowserSession, csrfToken, currentSession, currentSessionForClient, isCsrfValid } from "./session";

type Ctx = Context<AppEnv>;

const DECISION_PATH = "/oauth/authorize/decision";

function redirectError(c: Ctx, redirectUri: string, error: OAuthError, state: string | undefined): Response {
  const location = authorizationResponseUrl(c.get("settings"), redirectUri, {
    error: error.code,
    error_description: error.description,
    // An over-long state is the error itself: echoing 100 KB into Location would break proxies.
    state: state !== undefined && state.length <= MAX_PARAMETER_LENGTH ? state : undefined,
  });
  return c.redirect(location, 302);
}

/** The checked request, or the response for one that cannot go on (a page, or an error redirect). */
async function checked(
  c: Ctx,
  source: URLSearchParams,
): Promise<
  { ok: false; response: Response } | { ok: true; params: AuthorizationParams; request: AuthorizationRequest }
> {
  const { params, repeated } = readAuthorizationParams(source);
  const result: CheckedRequest = await checkRequest(c.env, c.get("settings"), params, repeated);
  switch (result.kind) {
    case "untrusted":
      // RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI.
      return {
        ok: false,
        response: renderPage(c, <ErrorPage title={result.title} message={result.message} status={400} />, 400),
      };
    case "refused":
      return { ok: false, response: redirectError(c, result.redirectUri, result.error, params.state) };
    case "valid":
      return { ok: true, params, request: result.request };
  }
}

/** Sends the user to sign in, coming back to the same request (minus prompt=login, so no loop). */
function redirectToSignIn(
  c: Ctx,
  params: AuthorizationParams,
  request: AuthorizationRequest,
  signIn: { fresh: boolean; loginHint: string | undefined },
) {
  const { fresh } = signIn;
  const back = new URLSearchParams();
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = params[name];
    if (value !== undefined && name !== "prompt" && name !== "auth_after") back.set(name, value);
  }
  const prompt = [...request.prompt].filter((p) => p !== "login").join(" ");
  if (prompt) back.set("prompt", prompt);
  if (fresh) back.set("auth_after", String(Math.floor(Date.now() / 1000)));
  const target = new URLSearchParams({ return_to: `/oauth/authorize?${back}` });
  if (signIn.loginHint) target.set("login_hint", signIn.loginHint);
  if (fresh) target.set("prompt", "login");
  return c.redirect(`/signin?${target}`, 302);
}

export async function handleAuthorize(c: Ctx): Promise<Response> {
  const source = c.req.method === "GET" ? new URL(c.req.url).searchParams : await readFormParams(c);
  const found = await checked(c, source);
  if (!found.ok) return found.response;
  const { params, request } = found;
  try {
    // One D1 round trip for the session, the memberships and the consent; the code is the second.
    const found = await currentSessionForClient(c, request.client.id);
    const session = found?.session ?? null;
    const outcome = await authorize(
      useCaseContext(c),
      found && { ...found.session, memberships: found.memberships, consented: found.consented },
      request,
    );
    switch (outcome.kind) {
      case "sign_in":
        return redirectToSignIn(c, params, request, outcome);
      case "code":
        return c.redirect(outcome.location, 302);
      case "consent":
        // authorize() asks for consent only with someone signed in.
        return showConsent(c, params, request, session as BrowserSession, outcome);
    }
  } catch (e) {
    if (e instanceof OAuthError) return redirectError(c, request.redirectUri, e, request.state);
    throw e;
  }
}

function showConsent(
  c: Ctx,
  params: AuthorizationParams,
  request: AuthorizationRequest,
  session: BrowserSession,
  outcome: { membership: Membership; consented: Set<string>; grantable: Set<string> },
): Response {
  const hidden: Record<string, string> = {};
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = params[name];
    // The checkboxes are named `scope`; the original request's scope travels as requested_scope.
    if (value !== undefined && name !== "prompt") hidden[name === "scope" ? "requested_scope" : name] = value;
  }
  const page = (
    <ConsentPage
      clientName={request.client.name}
      clientId={request.client.id}
      clientOrigin={request.client.origin}
      redirectHost={new URL(request.redirectUri).host}
      localhostOnlyRedirect={request.client.redirectUris.every((u) => isLoopbackHost(new URL(u).hostname))}
      logoUri={typeof request.client.metadata.logo_uri === "string" ? request.client.metadata.logo_uri : undefined}
      userEmail={session.user.email ?? ""}
      teamName={outcome.membership.teamName}
      roles={outcome.membership}
      scopes={consentScopes(request.scopes, outcome.grantable, outcome.consented)}
      action={DECISION_PATH}
      hidden={hidden}
      csrf={csrfToken(c)}
    />
  );
  // The form ends in a redirect to the client: CSP form-action must allow it (page-headers.ts).
  return renderPage(c, page, 200, { formTargets: [request.redirectUri] });
}

/** POST /oauth/authorize/decision: the consent form's answer. */
export async function handleConsentDecision(c: Ctx): Promise<Response> {
  const form = await readFormParams(c);
  if (!isCsrfValid(c, form.get("csrf") ?? undefined)) {
    return renderPage(
      c,
      <ErrorPage title="Request expired" message="This form is no longer valid. Go back and try again." status={403} />,
      403,
    );
  }
  const source = new URLSearchParams();
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = form.get(name === "scope" ? "requested_scope" : name);
    if (value !== null) source.set(name, value);
  }
  const found = await checked(c, source);
  if (!found.ok) return found.response;
  const { params, request } = found;
  try {
    const session = await currentSession(c);
    if (!session) return redirectToSignIn(c, params, request, { fresh: false, loginHint: request.loginHint });
    const outcome = await decideConsent(useCaseContext(c), session, request, consentDecisionOf(form));
    if (outcome.kind === "sign_in") return redirectToSignIn(c, params, request, outcome);
    return c.redirect(outcome.location, 302);
  } catch (e) {
    if (e instanceof OAuthError) return redirectError(c, request.redirectUri, e, request.state);
    throw e;
  }
}
