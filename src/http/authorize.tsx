/**
 * GET/POST /oauth/authorize and POST /oauth/authorize/decision (RFC 6749 §4.1.1–4.1.2, OIDC Core
 * §3.1.2). The rules live in oauth/authorization-request.ts; this file walks the user through
 * sign-in and consent and sends the answer back to the client.
 */
import type { Context } from "hono";
import {
  AUTHORIZATION_PARAMETERS,
  type AuthorizationParams,
  type AuthorizationRequest,
  authorizationResponseUrl,
  checkAuthorizationRequest,
  checkClientAndRedirect,
  MAX_PARAMETER_LENGTH,
  readAuthorizationParams,
  UntrustedRequestError,
} from "../oauth/authorization-request";
import { ceilingOf } from "../oauth/claims";
import { resolveClient } from "../oauth/client-lookup";
import { OAuthError } from "../oauth/errors";
import { issueAuthorizationCode } from "../oauth/grants/issue-code";
import { type HintedUser, readIdTokenHint, signedInAsOtherUser, signInLoginHint } from "../oauth/id-token-hint";
import { describeScope, intersectScopes } from "../oauth/scopes";
import { ConsentPage, type ConsentScope } from "../pages/consent";
import { ErrorPage } from "../pages/error";
import { renderPage } from "../pages/render";
import { recordAudit } from "../store/audit";
import { forgetClient, getClient } from "../store/clients";
import { addConsent, bindClientTeam, consentedScopes } from "../store/consents";
import { dbOf } from "../store/db";
import { listMemberships } from "../store/users";
import type { AppEnv } from "./context";
import { MAX_FORM_BYTES, readBoundedText } from "./form";
import { type BrowserSession, csrfToken, currentSession, isCsrfValid } from "./session";
import { grantContext } from "./token";

type Ctx = Context<AppEnv>;

const DECISION_PATH = "/oauth/authorize/decision";

async function readParams(c: Ctx): Promise<URLSearchParams> {
  if (c.req.method === "GET") return new URL(c.req.url).searchParams;
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return new URLSearchParams();
  return new URLSearchParams(await readBoundedText(c, MAX_FORM_BYTES));
}

/** Steps shared by the request and the decision: client and redirect URI, then the rest. */
async function validate(
  c: Ctx,
  params: AuthorizationParams,
  repeated: string | undefined,
): Promise<{ page: Response } | { redirectUri: string; request?: AuthorizationRequest; error?: OAuthError }> {
  const settings = c.get("settings");
  const clientId = params.client_id;
  // Registered ids and Client ID Metadata Document URLs (fetched, validated, cached in D1).
  const resolution = clientId && clientId.length <= 2048 ? await resolveClient(c.env, settings, clientId) : undefined;
  const client = resolution?.client;
  // A metadata document that could not be used: say why, for the app's developer.
  const problem = resolution?.problem && resolution.problem !== "unknown client" ? resolution.problem : undefined;
  let redirectUri: string;
  try {
    redirectUri = checkClientAndRedirect(params, repeated, client, problem);
  } catch (e) {
    if (!(e instanceof UntrustedRequestError)) throw e;
    // RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI.
    return { page: renderPage(c, <ErrorPage title={e.title} message={e.message} status={400} />, 400) };
  }
  try {
    return { redirectUri, request: checkAuthorizationRequest(settings, params, repeated, client!, redirectUri) };
  } catch (e) {
    if (e instanceof OAuthError) return { redirectUri, error: e };
    throw e;
  }
}

function redirectError(c: Ctx, redirectUri: string, error: OAuthError, state: string | undefined): Response {
  const location = authorizationResponseUrl(c.get("settings"), redirectUri, {
    error: error.code,
    error_description: error.description,
    // An over-long state is the error itself: echoing 100 KB into Location would break proxies.
    state: state !== undefined && state.length <= MAX_PARAMETER_LENGTH ? state : undefined,
  });
  return c.redirect(location, 302);
}

/** Sends the user to sign in, coming back to the same request (minus prompt=login, so no loop). */
function redirectToSignIn(
  c: Ctx,
  params: AuthorizationParams,
  request: AuthorizationRequest,
  fresh: boolean,
  hinted?: HintedUser,
) {
  const back = new URLSearchParams();
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = params[name];
    if (value !== undefined && name !== "prompt" && name !== "auth_after") back.set(name, value);
  }
  const prompt = [...request.prompt].filter((p) => p !== "login").join(" ");
  if (prompt) back.set("prompt", prompt);
  if (fresh) back.set("auth_after", String(Math.floor(Date.now() / 1000)));
  const target = new URLSearchParams({ return_to: `/oauth/authorize?${back}` });
  const loginHint = signInLoginHint(request, hinted);
  if (loginHint) target.set("login_hint", loginHint);
  if (fresh) target.set("prompt", "login");
  return c.redirect(`/signin?${target}`, 302);
}

type Membership = Awaited<ReturnType<typeof listMemberships>>[number];

/** The team the request acts in: the client's team, or — for an unbound registered client — the user's. */
export async function teamOf(
  c: Ctx,
  session: BrowserSession,
  request: Pick<AuthorizationRequest, "client">,
): Promise<Membership> {
  const db = dbOf(c.env.DB);
  const memberships = await listMemberships(db, session.user.id);
  // The cached row may predate the binding (another user, maybe in another isolate): read it fresh.
  const teamId = request.client.teamId ?? (await getClient(db, request.client.id))?.teamId;
  const membership = teamId ? memberships.find((m) => m.teamId === teamId) : memberships[0];
  if (!membership) throw new OAuthError("access_denied", "this application belongs to another team");
  return membership;
}

/** Fixes an unbound registered client's team (first authorization wins); refuses another team. */
export async function bindTeam(c: Ctx, request: Pick<AuthorizationRequest, "client">, teamId: string): Promise<void> {
  // A metadata-document client (one URL shared by every user of that app, in every team) stays unbound.
  if (request.client.teamId || request.client.origin === "metadata_document") return;
  const bound = await bindClientTeam(dbOf(c.env.DB), request.client.id, teamId);
  forgetClient(request.client.id);
  if (bound !== teamId) throw new OAuthError("access_denied", "this application belongs to another team");
}

/** Issues the code and sends it back; the caller has bound the client's team already. */
async function finish(
  c: Ctx,
  session: BrowserSession,
  request: AuthorizationRequest,
  membership: Membership,
  scopes: string[],
): Promise<Response> {
  const ctx = grantContext(c);
  const code = await issueAuthorizationCode(ctx, {
    request,
    holder: { user: session.user, membership },
    scopes,
    authTime: session.authTime,
  });
  return c.redirect(authorizationResponseUrl(ctx.settings, request.redirectUri, { code, state: request.state }), 302);
}

export async function handleAuthorize(c: Ctx): Promise<Response> {
  const { params, repeated } = readAuthorizationParams(await readParams(c));
  const checked = await validate(c, params, repeated);
  if ("page" in checked) return checked.page;
  const { redirectUri, request } = checked;
  if (!request) return redirectError(c, redirectUri, checked.error!, params.state);
  try {
    return await authorize(c, params, request);
  } catch (e) {
    if (e instanceof OAuthError) return redirectError(c, redirectUri, e, request.state);
    throw e;
  }
}

async function authorize(c: Ctx, params: AuthorizationParams, request: AuthorizationRequest): Promise<Response> {
  const session = await currentSession(c);
  const hinted = await readIdTokenHint(dbOf(c.env.DB), c.get("settings"), request);
  const now = Math.floor(Date.now() / 1000);
  const tooOld =
    session !== null &&
    ((request.maxAge !== undefined && now - session.authTime > request.maxAge) ||
      (request.authAfter !== undefined && session.authTime < request.authAfter));
  const otherUser = session !== null && signedInAsOtherUser(request, hinted, session.user.id);
  if (!session || request.prompt.has("login") || tooOld || otherUser) {
    // OIDC Core §3.1.2.6: prompt=none must not show anything.
    if (request.prompt.has("none")) throw new OAuthError("login_required", "the user is not signed in");
    return redirectToSignIn(c, params, request, session !== null, hinted);
  }

  const membership = await teamOf(c, session, request);
  const grantable = intersectScopes(request.scopes, ceilingOf(membership));
  if (request.client.automaticConsent && !request.prompt.has("consent")) {
    // As on the consent page: a code that carries no scope at all is never issued.
    if (grantable.length === 0) throw new OAuthError("access_denied", "your role cannot grant any requested scope");
    await bindTeam(c, request, membership.teamId);
    return finish(c, session, request, membership, grantable);
  }
  const consented = await consentedScopes(dbOf(c.env.DB), session.user.id, request.client.id);
  const covered = grantable.every((s) => consented.has(s));
  if (covered && !request.prompt.has("consent") && grantable.length > 0) {
    await bindTeam(c, request, membership.teamId);
    return finish(c, session, request, membership, grantable);
  }
  if (request.prompt.has("none"))
    throw new OAuthError("consent_required", "the user has not approved this application");
  return showConsent(c, params, request, session, membership, consented);
}

/** Each requested scope as the consent page lists it (the device page's consent too). */
export function consentScopes(requested: string[], ceiling: Set<string>, consented: Set<string>): ConsentScope[] {
  return requested.map((scope) => ({
    scope,
    description: describeScope(scope),
    grantable: ceiling.has(scope),
    previouslyGranted: consented.has(scope),
  }));
}

function showConsent(
  c: Ctx,
  params: AuthorizationParams,
  request: AuthorizationRequest,
  session: BrowserSession,
  membership: { teamId: string; teamName: string; role: string; onCallRole: string },
  consented: Set<string>,
): Response {
  const ceiling = ceilingOf(membership);
  const hidden: Record<string, string> = {};
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = params[name];
    // The checkboxes are named `scope`; the original request's scope travels as requested_scope.
    if (value !== undefined && name !== "prompt") hidden[name === "scope" ? "requested_scope" : name] = value;
  }
  const redirect = new URL(request.redirectUri);
  const localhostOnly = request.client.redirectUris.every((u) => {
    const host = new URL(u).hostname;
    return host === "127.0.0.1" || host === "[::1]" || host === "localhost";
  });
  const page = (
    <ConsentPage
      clientName={request.client.name}
      clientId={request.client.id}
      clientOrigin={request.client.origin}
      redirectHost={redirect.host}
      localhostOnlyRedirect={localhostOnly}
      logoUri={typeof request.client.metadata.logo_uri === "string" ? request.client.metadata.logo_uri : undefined}
      userEmail={session.user.email ?? ""}
      teamName={membership.teamName}
      scopes={consentScopes(request.scopes, ceiling, consented)}
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
  const form = new URLSearchParams(await readBoundedText(c, MAX_FORM_BYTES));
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
  const { params, repeated } = readAuthorizationParams(source);
  const checked = await validate(c, params, repeated);
  if ("page" in checked) return checked.page;
  const { redirectUri, request } = checked;
  if (!request) return redirectError(c, redirectUri, checked.error!, params.state);
  try {
    const session = await currentSession(c);
    if (!session) return redirectToSignIn(c, params, request, false);
    // The session may have changed since the consent page was shown: still never for someone else.
    const hinted = await readIdTokenHint(dbOf(c.env.DB), c.get("settings"), request);
    if (signedInAsOtherUser(request, hinted, session.user.id)) {
      return redirectToSignIn(c, params, request, true, hinted);
    }
    const membership = await teamOf(c, session, request);
    const db = dbOf(c.env.DB);
    const audit = {
      teamId: membership.teamId,
      actorUserId: session.user.id,
      clientId: request.client.id,
      ip: c.req.header("CF-Connecting-IP") ?? null,
    };
    if (form.get("decision") !== "approve") {
      await recordAudit(db, { ...audit, kind: "consent.denied", detail: { scopes: request.scopes } });
      throw new OAuthError("access_denied", "the user denied the request");
    }
    // Only what was both requested and ticked, and only what the user's role can grant.
    const ticked = form.getAll("scope");
    const approved = intersectScopes(intersectScopes(request.scopes, ticked), ceilingOf(membership));
    if (approved.length === 0) throw new OAuthError("access_denied", "the user approved no scope");
    // Bind before recording consent: a user of another team must leave no consent behind.
    await bindTeam(c, request, membership.teamId);
    await addConsent(db, session.user.id, request.client.id, approved);
    await recordAudit(db, { ...audit, kind: "consent.granted", detail: { scopes: approved } });
    return await finish(c, session, request, membership, approved);
  } catch (e) {
    if (e instanceof OAuthError) return redirectError(c, redirectUri, e, request.state);
    throw e;
  }
}
