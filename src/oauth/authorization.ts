/**
 * The use cases of the authorization endpoint (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2): check a
 * request, decide what a signed-in person gets (a code at once, a consent page, or a sign-in), and
 * record a consent decision. The rules themselves are in authorization-request.ts and scopes.ts;
 * this file adds teams, consents, audit and code issuance. No HTTP here: results are discriminated
 * unions the endpoint renders.
 */
import type { Env, Settings } from "../config";
import { MAX_CLIENT_ID_LENGTH } from "../limits";
import { recordAudit } from "../store/audit";
import { forgetClient, getClient } from "../store/clients";
import { addConsent, bindClientTeam } from "../store/consents";
import type { MembershipWithTeam, UserRow } from "../store/users";
import { listMemberships } from "../store/users";
import {
  type AuthorizationParams,
  type AuthorizationRequest,
  authorizationResponseUrl,
  checkAuthorizationRequest,
  checkClientAndRedirect,
  UntrustedRequestError,
} from "./authorization-request";
import { ceilingOf } from "./claims";
import { resolveClient } from "./client-lookup";
import { OAuthError } from "./errors";
import type { GrantContext } from "./grants/context";
import { issueAuthorizationCode } from "./grants/issue-code";
import { readIdTokenHint, signedInAsOtherUser, signInLoginHint } from "./id-token-hint";
import { type ConsentDecision, scopesFromConsentForm } from "./scope-groups";
import { intersectScopes } from "./scopes";

/** Who is signed in, as the browser session says. */
export interface SignedInPerson {
  user: UserRow;
  /** Unix seconds of the sign-in (OIDC auth_time). */
  authTime: number;
}

export type Membership = MembershipWithTeam;

/** A signed-in person with what /oauth/authorize read in the same D1 batch as the session. */
export interface PersonForClient extends SignedInPerson {
  memberships: Membership[];
  /** The scopes the person has consented to for this client. */
  consented: Set<string>;
}

/**
 * A checked request: `untrusted` must be shown, never redirected (RFC 6749 §4.1.2.1); `refused`
 * goes back to the verified redirect URI; `valid` goes on.
 */
export type CheckedRequest =
  | { kind: "untrusted"; title: string; message: string }
  | { kind: "refused"; redirectUri: string; error: OAuthError }
  | { kind: "valid"; request: AuthorizationRequest };

/** Client and redirect URI first, then everything else (authorization-request.ts). */
export async function checkRequest(
  env: Env,
  settings: Settings,
  params: AuthorizationParams,
  repeated: string | undefined,
): Promise<CheckedRequest> {
  const clientId = params.client_id;
  // Registered ids and Client ID Metadata Document URLs (fetched, validated, cached in D1).
  const resolution =
    clientId && clientId.length <= MAX_CLIENT_ID_LENGTH ? await resolveClient(env, settings, clientId) : undefined;
  const client = resolution?.client;
  // A metadata document that could not be used: say why, for the app's developer.
  const problem = resolution?.problem && resolution.problem !== "unknown client" ? resolution.problem : undefined;
  let redirectUri: string;
  try {
    redirectUri = checkClientAndRedirect(params, repeated, client, problem);
  } catch (e) {
    if (e instanceof UntrustedRequestError) return { kind: "untrusted", title: e.title, message: e.message };
    throw e;
  }
  if (!client) throw new Error("checkClientAndRedirect accepted a request without a client");
  try {
    return { kind: "valid", request: checkAuthorizationRequest(settings, params, repeated, client, redirectUri) };
  } catch (e) {
    if (e instanceof OAuthError) return { kind: "refused", redirectUri, error: e };
    throw e;
  }
}

/**
 * Off to sign in: `fresh` when someone is signed in already (a newer sign-in is needed), with what
 * to prefill (id-token-hint.ts).
 */
export type SignInNeeded = { kind: "sign_in"; fresh: boolean; loginHint: string | undefined };

/** What a request leads to for a person (or nobody) signed in. OAuthErrors go back to the client. */
export type AuthorizationOutcome =
  | SignInNeeded
  | { kind: "code"; location: string }
  | { kind: "consent"; membership: Membership; consented: Set<string>; grantable: Set<string> };

export async function authorize(
  ctx: GrantContext,
  person: PersonForClient | null,
  request: AuthorizationRequest,
): Promise<AuthorizationOutcome> {
  const hinted = await readIdTokenHint(ctx.db, ctx.settings, request);
  const now = Math.floor(Date.now() / 1000);
  const tooOld =
    person !== null &&
    ((request.maxAge !== undefined && now - person.authTime > request.maxAge) ||
      (request.authAfter !== undefined && person.authTime < request.authAfter));
  const otherUser = person !== null && signedInAsOtherUser(request, hinted, person.user.id);
  if (!person || request.prompt.has("login") || tooOld || otherUser) {
    // OIDC Core §3.1.2.6: prompt=none must not show anything.
    if (request.prompt.has("none")) throw new OAuthError("login_required", "the user is not signed in");
    return { kind: "sign_in", fresh: person !== null, loginHint: signInLoginHint(request, hinted) };
  }

  const membership = await teamOf(ctx, person.memberships, request);
  const ceiling = ceilingOf(membership, request.client.scopes);
  const grantable = intersectScopes(request.scopes, ceiling);
  if (request.client.automaticConsent && !request.prompt.has("consent")) {
    // As on the consent page: a code that carries no scope at all is never issued.
    if (grantable.length === 0) throw new OAuthError("access_denied", "your role cannot grant any requested scope");
    await bindTeam(ctx, request, membership.teamId);
    return issueCode(ctx, person, request, membership, grantable);
  }
  const consented = person.consented;
  const covered = grantable.every((s) => consented.has(s));
  if (covered && !request.prompt.has("consent") && grantable.length > 0) {
    await bindTeam(ctx, request, membership.teamId);
    return issueCode(ctx, person, request, membership, grantable);
  }
  if (request.prompt.has("none"))
    throw new OAuthError("consent_required", "the user has not approved this application");
  return { kind: "consent", membership, consented, grantable: ceiling };
}

/**
 * The consent page's answer: `approve` with the ticked scopes, or a denial (access_denied). Only
 * what was both requested and ticked, and only what the person's role and the app allow, is granted.
 */
export async function decideConsent(
  ctx: GrantContext,
  person: SignedInPerson,
  request: AuthorizationRequest,
  decision: ConsentDecision,
): Promise<{ kind: "code"; location: string } | SignInNeeded> {
  // The session may have changed since the consent page was shown: still never for someone else.
  const hinted = await readIdTokenHint(ctx.db, ctx.settings, request);
  if (signedInAsOtherUser(request, hinted, person.user.id)) {
    return { kind: "sign_in", fresh: true, loginHint: signInLoginHint(request, hinted) };
  }
  const membership = await teamOf(ctx, await listMemberships(ctx.db, person.user.id), request);
  const audit = { teamId: membership.teamId, actorUserId: person.user.id, clientId: request.client.id, ip: ctx.ip };
  if (!decision.approve) {
    await recordAudit(ctx.db, { ...audit, kind: "consent.denied", detail: { scopes: request.scopes } });
    throw new OAuthError("access_denied", "the user denied the request");
  }
  // Only what was requested and ticked (with its area), and only what the role and the app allow.
  const approved = scopesFromConsentForm(request.scopes, decision.ticked, ceilingOf(membership, request.client.scopes));
  if (approved.length === 0) throw new OAuthError("access_denied", "the user approved no scope");
  // Bind before recording consent: a user of another team must leave no consent behind.
  await bindTeam(ctx, request, membership.teamId);
  await addConsent(ctx.db, person.user.id, request.client.id, approved);
  await recordAudit(ctx.db, { ...audit, kind: "consent.granted", detail: { scopes: approved } });
  return issueCode(ctx, person, request, membership, approved);
}

/**
 * The team the request acts in: the client's team, or — for an unbound registered client — the
 * user's (their oldest membership, when they have several). Device approvals (device-approval.ts)
 * use it too.
 */
export async function teamOf(
  ctx: GrantContext,
  memberships: Membership[],
  request: Pick<AuthorizationRequest, "client">,
): Promise<Membership> {
  // The cached row may predate the binding (another user, maybe in another isolate): read it fresh.
  const teamId = request.client.teamId ?? (await getClient(ctx.db, request.client.id))?.teamId;
  const membership = teamId ? memberships.find((m) => m.teamId === teamId) : memberships[0];
  if (!membership) throw new OAuthError("access_denied", "this application belongs to another team");
  return membership;
}

/** Fixes an unbound registered client's team (first authorization wins); refuses another team. */
export async function bindTeam(
  ctx: GrantContext,
  request: Pick<AuthorizationRequest, "client">,
  teamId: string,
): Promise<void> {
  // A metadata-document client (one URL shared by every user of that app, in every team) stays unbound.
  if (request.client.teamId || request.client.origin === "metadata_document") return;
  const bound = await bindClientTeam(ctx.db, request.client.id, teamId);
  forgetClient(request.client.id);
  if (bound !== teamId) throw new OAuthError("access_denied", "this application belongs to another team");
}

/** Issues the code and the redirect that carries it; the caller has bound the client's team already. */
async function issueCode(
  ctx: GrantContext,
  person: SignedInPerson,
  request: AuthorizationRequest,
  membership: Membership,
  scopes: string[],
): Promise<{ kind: "code"; location: string }> {
  const code = await issueAuthorizationCode(ctx, {
    request,
    holder: membership,
    scopes,
    authTime: person.authTime,
  });
  return {
    kind: "code",
    location: authorizationResponseUrl(ctx.settings, request.redirectUri, { code, state: request.state }),
  };
}
