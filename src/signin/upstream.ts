/**
 * The upstream OpenID Connect client (authorization code + PKCE + state + nonce) built on oauth4webapi:
 * discovery, the authorization URL, and the callback, whose ID token is checked by oauth4webapi
 * (iss, aud, azp, exp, nonce) and whose signature is verified with jose against the upstream JWKS.
 * The flow's secrets travel in a sealed, short-lived cookie value made here. Nothing from the upstream
 * is kept but email and name; its access token is used at most once (Entra organization name) and
 * dropped.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { isLoopbackHost, type Settings, type UpstreamSettings } from "../config";
import { openSealed, purposeKey, seal } from "../tokens/secrets";
import { describeEntraOrganization, isEntraIssuer, MICROSOFT_PERSONAL_ACCOUNTS_TENANT } from "./entra";
import { safeReturnTo } from "./return-to";
import type { UpstreamOrganization } from "./teams";

/** How long a started sign-in may take (also the cookie's Max-Age). */
export const PENDING_SIGNIN_SECONDS = 600;
const PENDING_AAD = "upstream-signin";
/** Keeps the sealed cookie under browsers' 4 KiB cookie limit (an authorization URL with every scope fits). */
const MAX_PENDING_RETURN_TO = 2500;
const MAX_PENDING_COOKIE = 4000;
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export type UpstreamFailure =
  | "expired"
  | "state_mismatch"
  | "refused"
  | "email_unverified"
  | "email_missing"
  | "failed";

/** A sign-in the upstream or its answer did not allow; `message` is written for the person. */
export class UpstreamSignInError extends Error {
  constructor(
    readonly reason: UpstreamFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UpstreamSignInError";
  }
}

export interface UpstreamIdentity {
  /** Lower-cased, verified by the upstream. */
  email: string;
  name: string | null;
  organization: UpstreamOrganization | null;
}

interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  expiresAt: number;
}

/** "Google", "Microsoft", or the upstream's host name: for the "Sign in with …" button. */
export function upstreamDisplayName(upstream: UpstreamSettings): string {
  const url = new URL(upstream.issuer);
  if (url.hostname === "accounts.google.com") return "Google";
  if (isEntraIssuer(upstream.issuer)) return "Microsoft";
  return url.host;
}

export function upstreamRedirectUri(settings: Settings): string {
  return `${settings.issuerUrl.origin}/signin/callback`;
}

/** Plain http only for a loopback upstream of a loopback issuer (local development and tests). */
function requestOptions(settings: Settings, upstream: UpstreamSettings) {
  const url = new URL(upstream.issuer);
  const insecure = url.protocol === "http:" && isLoopbackHost(url.hostname) && settings.issuerIsLoopback;
  return { [oauth.allowInsecureRequests]: insecure, signal: AbortSignal.timeout(10_000) };
}

const discovered = new Map<string, { as: oauth.AuthorizationServer; expiresAt: number }>();

/** OpenID discovery, cached per isolate for an hour. */
async function authorizationServer(settings: Settings, upstream: UpstreamSettings): Promise<oauth.AuthorizationServer> {
  const cached = discovered.get(upstream.issuer);
  if (cached && cached.expiresAt > Date.now()) return cached.as;
  const issuerUrl = new URL(upstream.issuer);
  const response = await oauth.discoveryRequest(issuerUrl, requestOptions(settings, upstream));
  // Entra's multi-tenant documents (common, organizations) name their issuer "…/{tenantid}/v2.0".
  const as = isEntraIssuer(upstream.issuer)
    ? await entraAuthorizationServer(issuerUrl, response)
    : await oauth.processDiscoveryResponse(issuerUrl, response);
  discovered.set(upstream.issuer, { as, expiresAt: Date.now() + DISCOVERY_TTL_MS });
  return as;
}

/**
 * oauth4webapi's own hooks for Entra (the ones openid-client uses): skip the discovery issuer check,
 * then expect the ID token's issuer to be the template with the token's own `tid`.
 */
async function entraAuthorizationServer(issuerUrl: URL, response: Response): Promise<oauth.AuthorizationServer> {
  const hooks = oauth as unknown as Record<"_nodiscoverycheck" | "_expectedIssuer", symbol | undefined>;
  const template = hooks._nodiscoverycheck && hooks._expectedIssuer;
  const as = template
    ? await oauth.processDiscoveryResponse(hooks._nodiscoverycheck as unknown as URL, response)
    : await oauth.processDiscoveryResponse(issuerUrl, response);
  if (as.issuer === issuerUrl.href || as.issuer === issuerUrl.href.replace(/\/$/, "")) return as;
  if (!template || !as.issuer.includes("{tenantid}")) {
    throw new Error(`upstream discovery names issuer ${as.issuer}, expected ${issuerUrl.href}`);
  }
  return {
    ...as,
    [hooks._expectedIssuer as symbol]: (result: { claims: { tid?: unknown } }) =>
      as.issuer.replace("{tenantid}", String(result.claims.tid)),
  };
}

function clientAuthentication(as: oauth.AuthorizationServer, upstream: UpstreamSettings): oauth.ClientAuth {
  // OIDC Discovery §3: client_secret_basic is the default when the provider lists nothing.
  const methods = as.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  return methods.includes("client_secret_basic")
    ? oauth.ClientSecretBasic(upstream.clientSecret)
    : oauth.ClientSecretPost(upstream.clientSecret);
}

/** Starts a sign-in: the upstream authorization URL, and the sealed value for the short-lived cookie. */
export async function beginUpstreamSignIn(
  settings: Settings,
  upstream: UpstreamSettings,
  request: { returnTo: string; loginHint?: string; forceLogin: boolean },
): Promise<{ location: string; pending: string }> {
  const as = await authorizationServer(settings, upstream);
  if (!as.authorization_endpoint) throw new Error("upstream discovery has no authorization_endpoint");
  const pending: PendingSignIn = {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    verifier: oauth.generateRandomCodeVerifier(),
    returnTo: request.returnTo.length <= MAX_PENDING_RETURN_TO ? safeReturnTo(request.returnTo) : "/",
    expiresAt: Date.now() + PENDING_SIGNIN_SECONDS * 1000,
  };
  const url = new URL(as.authorization_endpoint);
  const params = url.searchParams;
  params.set("client_id", upstream.clientId);
  params.set("redirect_uri", upstreamRedirectUri(settings));
  params.set("response_type", "code");
  // User.Read lets us read the Entra organization's name once, when its team is created.
  params.set("scope", isEntraIssuer(upstream.issuer) ? "openid email profile User.Read" : "openid email profile");
  params.set("state", pending.state);
  params.set("nonce", pending.nonce);
  params.set("code_challenge", await oauth.calculatePKCECodeChallenge(pending.verifier));
  params.set("code_challenge_method", "S256");
  if (request.loginHint) params.set("login_hint", request.loginHint);
  // Our prompt=login / max_age must not be satisfied silently by the upstream's own session.
  if (request.forceLogin) params.set("prompt", "login");
  const key = await purposeKey(settings, "upstream-signin v1");
  return { location: url.href, pending: await seal(key, JSON.stringify(pending), PENDING_AAD) };
}

async function openPending(settings: Settings, sealed: string | undefined): Promise<PendingSignIn | null> {
  if (!sealed || sealed.length > MAX_PENDING_COOKIE) return null;
  const key = await purposeKey(settings, "upstream-signin v1");
  const json = await openSealed(key, sealed, PENDING_AAD);
  if (!json) return null;
  const pending = JSON.parse(json) as PendingSignIn;
  return pending.expiresAt > Date.now() ? pending : null;
}

/** Finishes a sign-in at /signin/callback: who the person is, and where they were going. */
export async function completeUpstreamSignIn(
  settings: Settings,
  upstream: UpstreamSettings,
  callbackUrl: URL,
  sealedPending: string | undefined,
): Promise<{ identity: UpstreamIdentity; returnTo: string }> {
  const pending = await openPending(settings, sealedPending);
  if (!pending) {
    throw new UpstreamSignInError("expired", "This sign-in has expired or was already completed. Please start again.");
  }
  const as = await authorizationServer(settings, upstream);
  const client: oauth.Client = { client_id: upstream.clientId };
  let params: URLSearchParams;
  try {
    // Checks state, and iss when the upstream supports RFC 9207 (mix-up defence).
    params = oauth.validateAuthResponse(as, client, callbackUrl, pending.state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      throw new UpstreamSignInError("refused", `The sign-in provider did not sign you in (${err.error}).`, {
        cause: err,
      });
    }
    throw new UpstreamSignInError("state_mismatch", "This sign-in response does not match the sign-in you started.", {
      cause: err,
    });
  }
  const options = requestOptions(settings, upstream);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuthentication(as, upstream),
    params,
    upstreamRedirectUri(settings),
    pending.verifier,
    options,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  if (!claims || !tokens.id_token) throw new Error("upstream returned no ID token");
  await verifyIdTokenSignature(as, upstream, tokens.id_token, String(claims.iss));

  let profile: Record<string, unknown> = claims;
  if (typeof claims.email !== "string") {
    // Providers that keep email out of the ID token serve it at UserInfo (OIDC Core §5.3).
    const info = await oauth.processUserInfoResponse(
      as,
      client,
      claims.sub,
      await oauth.userInfoRequest(as, client, tokens.access_token, options),
    );
    profile = { ...info, ...claims };
  }
  const identity = identityFrom(upstream, profile, tokens.access_token);
  return { identity, returnTo: pending.returnTo };
}

const remoteKeySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

async function verifyIdTokenSignature(
  as: oauth.AuthorizationServer,
  upstream: UpstreamSettings,
  idToken: string,
  issuer: string,
): Promise<void> {
  if (!as.jwks_uri) throw new Error("upstream discovery has no jwks_uri");
  let keys = remoteKeySets.get(as.jwks_uri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(as.jwks_uri), { timeoutDuration: 5000 });
    remoteKeySets.set(as.jwks_uri, keys);
  }
  await jwtVerify(idToken, keys, {
    issuer,
    audience: upstream.clientId,
    algorithms: ASYMMETRIC_ALGS,
    clockTolerance: 30,
  });
}

/** What we keep of the upstream's verified claims: a verified email, the name, the organization. */
export function identityFrom(
  upstream: UpstreamSettings,
  claims: Record<string, unknown>,
  accessToken: string,
): UpstreamIdentity {
  const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : "";
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
    throw new UpstreamSignInError("email_missing", "The sign-in provider did not share your email address.");
  }
  const entra = isEntraIssuer(upstream.issuer);
  // Entra has no email_verified; its xms_edov says the email's domain is verified by the tenant.
  const verified = claims.email_verified === true || (entra && claims.xms_edov === true);
  if (!verified) {
    throw new UpstreamSignInError(
      "email_unverified",
      `The sign-in provider has not verified the email address ${email}. Verify it there, then sign in again.`,
    );
  }
  const rawName = typeof claims.name === "string" ? claims.name.replace(/[\x00-\x1f\x7f]/g, "").trim() : "";
  const name = rawName.slice(0, 200) || null;
  return { email, name, organization: organizationOf(upstream, claims, email, accessToken) };
}

function organizationOf(
  upstream: UpstreamSettings,
  claims: Record<string, unknown>,
  email: string,
  accessToken: string,
): UpstreamOrganization | null {
  const { tid, hd } = claims;
  if (isEntraIssuer(upstream.issuer)) {
    // Personal Microsoft accounts all share one tenant: they are people without an organization.
    if (typeof tid !== "string" || !tid || tid === MICROSOFT_PERSONAL_ACCOUNTS_TENANT) return null;
    return { issuer: upstream.issuer, id: tid, describe: () => describeEntraOrganization(accessToken, tid, email) };
  }
  // Google Workspace: `hd` is the organization's primary domain.
  if (typeof hd === "string" && hd) {
    const domain = hd.toLowerCase();
    return { issuer: upstream.issuer, id: domain, describe: async () => ({ name: domain, primaryDomain: domain }) };
  }
  return null;
}
