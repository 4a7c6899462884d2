/**
 * Credentials the token-path benchmarks spend: apps made through the admin API, a browser session
 * from the dev sign-in, and pools of single-use codes and refresh tokens minted right before a run
 * (outside the measured time); the same for the peer (bench/peer/), whose clients come from its
 * dynamic registration and whose codes from its own authorize flow (`completeAuthorization`).
 * Plain fetch with a hand-kept cookie: this drives load, it tests nothing.
 */
import { readFileSync } from "node:fs";
import { exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";

const REDIRECT_URI = "https://bench.example/callback";
// One PKCE pair for every code: the benchmark measures the server, not the client's randomness.
const VERIFIER = "bench-verifier-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const SCOPE = "openid profile email ir.incidents:read";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

const perServer = new Map();

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString("base64url");
}

async function adminCreate(baseUrl, adminToken, body) {
  const res = await fetch(`${baseUrl}/api/admin/apps`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ team_id: "team_demo", ...body }),
  });
  if (res.status !== 201) throw new Error(`bench: creating an app failed: ${res.status} ${await res.text()}`);
  return res.json();
}

async function devSession(baseUrl) {
  const page = await fetch(`${baseUrl}/signin`);
  const csrf = /eoidc_csrf=([\w-]+)/.exec(page.headers.get("set-cookie") ?? "")?.[1];
  const res = await fetch(`${baseUrl}/signin/dev`, {
    method: "POST",
    headers: { ...FORM, cookie: `eoidc_csrf=${csrf}` },
    body: new URLSearchParams({ email: "member@example.com", csrf, return_to: "/" }),
    redirect: "manual",
  });
  const session = /eoidc_session=([\w-]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  if (!session) throw new Error(`bench: dev sign-in failed (${res.status})`);
  return `eoidc_session=${session}`;
}

/** The apps and the session of one server, made once. */
export function fixturesOf(ctx) {
  let fixtures = perServer.get(ctx.baseUrl);
  if (!fixtures) {
    fixtures = (async () => {
      const service = await adminCreate(ctx.baseUrl, ctx.adminToken, {
        name: "bench service",
        type: "client_credentials",
        scope: "ir.incidents:read oc.alerts:read",
      });
      const web = await adminCreate(ctx.baseUrl, ctx.adminToken, {
        name: "bench web app",
        type: "public",
        redirect_uris: [REDIRECT_URI],
        scope: SCOPE,
        automatic_consent: true,
      });
      // The same app, but its ID tokens are ES256 (id_token_signed_response_alg), not RS256.
      const webEs256 = await adminCreate(ctx.baseUrl, ctx.adminToken, {
        name: "bench web app, ES256 ID tokens",
        type: "public",
        redirect_uris: [REDIRECT_URI],
        scope: SCOPE,
        automatic_consent: true,
        id_token_signed_response_alg: "ES256",
      });
      const basic = `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString("base64")}`;
      return {
        service,
        basic,
        webClientId: web.client_id,
        webEs256ClientId: webEs256.client_id,
        cookie: await devSession(ctx.baseUrl),
        challenge: await challengeOf(VERIFIER),
      };
    })();
    perServer.set(ctx.baseUrl, fixtures);
  }
  return fixtures;
}

/** Runs `make` n times, `width` at a time. */
async function pool(n, width, make) {
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        next++;
        out.push(await make());
      }
    }),
  );
  return out;
}

/** An authorization request of the bench web app, which has automatic consent: answered with a code. */
export function authorizePath(f, clientId = f.webClientId) {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: f.challenge,
    code_challenge_method: "S256",
    state: "bench",
  });
  return `/oauth/authorize?${query}`;
}

export async function mintCode(ctx, clientId) {
  const f = await fixturesOf(ctx);
  const res = await fetch(`${ctx.baseUrl}${authorizePath(f, clientId)}`, {
    headers: { cookie: f.cookie },
    redirect: "manual",
  });
  const code = new URL(res.headers.get("location") ?? "http://x/").searchParams.get("code");
  if (!code) throw new Error(`bench: /oauth/authorize gave no code (${res.status} ${res.headers.get("location")})`);
  return code;
}

export function codeExchangeBody(f, code, clientId = f.webClientId) {
  return new URLSearchParams({
    grant_type: "authorization_code",
    code,
    code_verifier: VERIFIER,
    redirect_uri: REDIRECT_URI,
    client_id: clientId,
  }).toString();
}

/** A refresh request of a public client (RFC 6749 §6): the client_id identifies it. */
export function refreshBody(f, refreshToken) {
  return new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: f.webClientId,
  }).toString();
}

export async function mintTokens(ctx) {
  const f = await fixturesOf(ctx);
  const res = await fetch(`${ctx.baseUrl}/oauth/token`, {
    method: "POST",
    headers: FORM,
    body: codeExchangeBody(f, await mintCode(ctx)),
  });
  if (res.status !== 200) throw new Error(`bench: code exchange failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Pool sizes: enough for the run at its last rate, bounded so minting stays short. */
export function poolSize(ctx, cap = 6000) {
  return Math.min(cap, ctx.warmup ? 300 : ctx.expectedRequests);
}

export const mintCodes = (ctx, n, clientId) => pool(n, 8, () => mintCode(ctx, clientId));
export const mintRefreshTokens = (ctx, n) => pool(n, 8, async () => (await mintTokens(ctx)).refresh_token);
export const mintServiceTokens = async (ctx, n) => {
  const f = await fixturesOf(ctx);
  return pool(n, 8, async () => {
    const res = await fetch(`${ctx.baseUrl}/oauth/token`, {
      method: "POST",
      headers: { ...FORM, authorization: f.basic },
      body: "grant_type=client_credentials",
    });
    return (await res.json()).access_token;
  });
};

// ── DPoP (RFC 9449): one client key; proofs minted in pools right before a run (each jti is single use) ──

let dpopKey;
const dpopKeyOf = () => {
  dpopKey ??= generateKeyPair("ES256").then(async ({ privateKey, publicKey }) => ({
    privateKey,
    jwk: await exportJWK(publicKey),
  }));
  return dpopKey;
};

/** One proof (§4.2) for `htm` at `path` of the server, with its nonce and, for a resource, `ath` (§4.3). */
async function dpopProof(ctx, { htm, path, nonce, accessToken }) {
  const { privateKey, jwk } = await dpopKeyOf();
  const ath = accessToken
    ? Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken))).toString("base64url")
    : undefined;
  return new SignJWT({ htm, htu: `${ctx.baseUrl}${path}`, ...(nonce ? { nonce } : {}), ...(ath ? { ath } : {}) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .sign(privateKey);
}

/** The server's current nonce (§8): the use_dpop_nonce answer to a proof without one carries it. */
async function dpopNonce(ctx) {
  const f = await fixturesOf(ctx);
  const res = await fetch(`${ctx.baseUrl}/oauth/token`, {
    method: "POST",
    headers: { ...FORM, authorization: f.basic, dpop: await dpopProof(ctx, { htm: "POST", path: "/oauth/token" }) },
    body: "grant_type=client_credentials",
  });
  const nonce = res.headers.get("dpop-nonce");
  if (!nonce) throw new Error(`bench: no DPoP-Nonce in the answer (${res.status} ${await res.text()})`);
  return nonce;
}

/** `n` proofs for `htm` at `path` (with `ath` of `accessToken` if given), all with the current nonce. */
export async function mintDpopProofs(ctx, n, { htm, path, accessToken }) {
  const nonce = await dpopNonce(ctx);
  return Promise.all(Array.from({ length: n }, () => dpopProof(ctx, { htm, path, nonce, accessToken })));
}

/** A DPoP-bound access token (cnf.jkt, RFC 9449 §6) of the bench web app, from a code exchange with a proof. */
export async function mintDpopBoundAccessToken(ctx) {
  const f = await fixturesOf(ctx);
  const [proof] = await mintDpopProofs(ctx, 1, { htm: "POST", path: "/oauth/token" });
  const res = await fetch(`${ctx.baseUrl}/oauth/token`, {
    method: "POST",
    headers: { ...FORM, dpop: proof },
    body: codeExchangeBody(f, await mintCode(ctx)),
  });
  const body = await res.json();
  if (res.status !== 200 || body.token_type !== "DPoP") {
    throw new Error(`bench: DPoP code exchange failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/**
 * What the reference workers receive: a client_credentials request's Basic header and body (for
 * "sign"), and a code exchange's form with a code of a real code's length (for "d1-do-sign").
 */
export const REFERENCE_BASIC = `Basic ${Buffer.from(`bench-client:${"s".repeat(52)}`).toString("base64")}`;
export const REFERENCE_CC_FORM = "grant_type=client_credentials";
export const REFERENCE_CODE_FORM = codeExchangeBody({ webClientId: "bench-client" }, `eoidc_ac_${"c".repeat(190)}`);

/**
 * The bearer token the "jwt-do-read" reference verifies: an RFC 9068 access token shaped like
 * edge-oidc's, signed with the references' benchmark key (bench/reference/common/bench-key.json) and
 * valid for six hours (longer than any run).
 */
async function referenceBearer() {
  const jwk = JSON.parse(readFileSync(new URL("./reference/common/bench-key.json", import.meta.url), "utf8"));
  const issuer = "http://127.0.0.1:8787"; // the references' ISSUER (bench/reference/common/access-token.ts)
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    client_id: "bench-client",
    scope: "openid profile email ir.incidents:read",
    team_id: "team_bench",
    jti: crypto.randomUUID(),
  })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: jwk.kid })
    .setIssuer(issuer)
    .setSubject("usr_bench")
    .setAudience(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 6 * 3600)
    .sign(await importJWK(jwk, "ES256"));
  return `Bearer ${token}`;
}
export const REFERENCE_BEARER = await referenceBearer();

// ── the peer: @cloudflare/workers-oauth-provider (bench/peer/worker.ts) ──────────────────────────

async function peerRegister(baseUrl, tokenEndpointAuthMethod) {
  const res = await fetch(`${baseUrl}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: `bench ${tokenEndpointAuthMethod}`,
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: tokenEndpointAuthMethod,
    }),
  });
  if (res.status !== 201) throw new Error(`bench: peer registration failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * The peer's clients, made once: a public web app (PKCE, client_id in the form, as edge-oidc's bench
 * web app) and a confidential app with client_secret_basic (as edge-oidc's service app at /oauth/revoke).
 */
export function peerFixturesOf(ctx) {
  let fixtures = perServer.get(ctx.baseUrl);
  if (!fixtures) {
    fixtures = (async () => {
      const web = await peerRegister(ctx.baseUrl, "none");
      const confidential = await peerRegister(ctx.baseUrl, "client_secret_basic");
      return {
        webClientId: web.client_id,
        confidentialClientId: confidential.client_id,
        basic: `Basic ${Buffer.from(`${confidential.client_id}:${confidential.client_secret}`).toString("base64")}`,
        challenge: await challengeOf(VERIFIER),
      };
    })();
    perServer.set(ctx.baseUrl, fixtures);
  }
  return fixtures;
}

/** A code from the peer's /authorize (bench/peer/worker.ts completes every valid request at once). */
async function mintPeerCode(ctx, clientId) {
  const f = await peerFixturesOf(ctx);
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: f.challenge,
    code_challenge_method: "S256",
    state: "bench",
  });
  const res = await fetch(`${ctx.baseUrl}/authorize?${query}`, { redirect: "manual" });
  const code = new URL(res.headers.get("location") ?? "http://x/").searchParams.get("code");
  if (!code) throw new Error(`bench: the peer's /authorize gave no code (${res.status} ${await res.text()})`);
  return code;
}

/** The peer's token response for a fresh code of `clientId` (Basic when it is the confidential app). */
async function mintPeerTokens(ctx, confidential = false) {
  const f = await peerFixturesOf(ctx);
  const clientId = confidential ? f.confidentialClientId : f.webClientId;
  const body = new URLSearchParams(codeExchangeBody({ webClientId: clientId }, await mintPeerCode(ctx, clientId)));
  // The peer refuses client_id in the form next to Basic ("multiple authentication methods").
  if (confidential) body.delete("client_id");
  const res = await fetch(`${ctx.baseUrl}/oauth/token`, {
    method: "POST",
    headers: confidential ? { ...FORM, authorization: f.basic } : FORM,
    body: body.toString(),
  });
  if (res.status !== 200) throw new Error(`bench: peer code exchange failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export const mintPeerCodes = async (ctx, n) => {
  const f = await peerFixturesOf(ctx);
  return pool(n, 8, () => mintPeerCode(ctx, f.webClientId));
};
export const mintPeerAccessToken = async (ctx) => (await mintPeerTokens(ctx)).access_token;
export const mintPeerRefreshTokens = (ctx, n) => pool(n, 8, async () => (await mintPeerTokens(ctx)).refresh_token);
export const mintPeerConfidentialTokens = (ctx, n) =>
  pool(n, 8, async () => (await mintPeerTokens(ctx, true)).access_token);

export { FORM };
