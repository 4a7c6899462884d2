#!/usr/bin/env node
/**
 * `npm run bench`: throughput and latency of edge-oidc's endpoints under `wrangler dev`, next to
 * reference workers (the floors) and the peer @cloudflare/workers-oauth-provider (bench/peer/),
 * written to bench/results/<timestamp>.json and docs/benchmarks.md.
 *
 * ── ADDING AN ENDPOINT ─────────────────────────────────────────────────────────────────────────────
 * Append an entry to TARGETS below. Fields:
 *   name       the row label, e.g. "POST /oauth/token (client_credentials)"
 *   server     which running server it hits: "edge-oidc", "peer" or a reference ("static" | "sign" |
 *              "jwt-do-read" | "do-sign" | "d1-do-sign")
 *   reference  the reference its ratios are computed against (leave out on the references themselves):
 *              "static" for cached GET documents, "sign" for one signature, "jwt-do-read" for a token
 *              check with a bearer header (userinfo), "jwt-do-read-form" for one whose token is in a
 *              form body (introspection), "do-sign" for a grant that writes the holder's Durable
 *              Object and signs (code exchange, refresh; revocation), "d1-do-sign" for what also reads D1
 *   floor      on a reference row: the name endpoints give it in `reference` when it is not the
 *              server's (one reference worker sent two kinds of request is two floors)
 *   peer       the name of the peer's row doing the same job; the peer's row is itself paired with the
 *              same reference, and "÷ peer" is the endpoint's ratio to the floor over the peer's
 *   plain      on a DPoP row: the name of the same request's row without DPoP; both share the reference,
 *              and "÷ plain" in the report is the DPoP row's ratio to it over the plain row's
 *   goal       targets for the report's Targets table: { floor, peer } (min req/s ratios), { p99 }
 *              (max p99 ratio to the floor)
 *   okStatus   the status that means success when it is not 2xx (e.g. 302 for /oauth/authorize)
 *   request    a fixed request { method, path, headers?, body? }, OR
 *   setup(ctx) async, called before every measured run (and the warm-up) with
 *              ctx = { baseUrl, adminToken, connections, seconds, expectedRequests, warmup }
 *              and returns what autocannon should send: { method, path, headers, body } for a fixed
 *              request, or { requests: [...] } for per-request bodies (autocannon's `requests` array;
 *              each entry may have setupRequest(req, context) => req), plus optionally
 *              { amount: n } to stop after n requests (a run then lasts until the pool is used up).
 * Single-use credentials go in a pool minted by setup(), outside the measured time, e.g.:
 *   {
 *     name: "POST /oauth/token (refresh_token)", server: "edge-oidc", reference: "d1-do-sign",
 *     async setup(ctx) {
 *       // Each use rotates the token, so mint one per request this run can make.
 *       const pool = await mintRefreshTokens(ctx.baseUrl, ctx.adminToken, ctx.expectedRequests);
 *       const form = (t) => `grant_type=refresh_token&refresh_token=${t}&client_id=${CLIENT_ID}`;
 *       return {
 *         amount: pool.length,
 *         requests: [{ method: "POST", path: "/oauth/token",
 *           headers: { "content-type": "application/x-www-form-urlencoded" },
 *           setupRequest: (req) => ({ ...req, body: form(pool.pop()) }) }],
 *       };
 *     },
 *   },
 * authorization_code works the same way from pre-minted codes (they expire after 60 s: mint them in
 * setup(), which runs right before each run). ctx.expectedRequests is an upper estimate from the
 * target's last run (or 3000 req/s × seconds before the first one).
 * ────────────────────────────────────────────────────────────────────────────────────────────────────
 *
 * Each endpoint run is paired with a run of its reference right next to it (see main() and
 * report.mjs), so the ratios hold while the machine's speed drifts.
 *
 * Settings (environment): BENCH_SECONDS (10) and BENCH_REPEATS (3) per cell, 0 = skip the benchmark;
 * BENCH_CONNECTIONS ("8,32"); BENCH_WARMUP_SECONDS (2); BENCH_SERVER_CPUS ("0") and BENCH_LOAD_CPUS
 * ("1") for taskset pinning on machines with 2+ cores; BENCH_ONLY (comma-separated substrings of
 * endpoint names; the references and peer rows they use are kept, and only the servers they need
 * are started); BENCH_DOCS=0 to leave docs/benchmarks.md alone (smoke runs); BENCH_BURN_IN (50000)
 * requests each server answers before the warm-up (0 = none, see burnIn()).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, type } from "node:os";
import { join, relative } from "node:path";
import autocannon from "autocannon";
import { PROJECT_ROOT, pinPrefix } from "../scripts/start-server.mjs";
import { groupSnapshot } from "./cpu.mjs";
import {
  authorizePath,
  codeExchangeBody,
  FORM,
  fixturesOf,
  mintCodes,
  mintDpopBoundAccessToken,
  mintDpopProofs,
  mintPeerAccessToken,
  mintPeerCodes,
  mintPeerConfidentialTokens,
  mintPeerRefreshTokens,
  mintRefreshTokens,
  mintServiceTokens,
  mintTokens,
  peerFixturesOf,
  poolSize,
  REFERENCE_BASIC,
  REFERENCE_BEARER,
  REFERENCE_CC_FORM,
  REFERENCE_CODE_FORM,
  refreshBody,
} from "./fixtures.mjs";
import { dpopTable, KEPT_MARKER, markdown, summarize, summaryTable, targetTable } from "./report.mjs";
import { startServers } from "./servers.mjs";

const TARGETS = [
  // edge-oidc
  {
    name: "GET /.well-known/openid-configuration",
    server: "edge-oidc",
    reference: "static",
    request: { method: "GET", path: "/.well-known/openid-configuration" },
  },
  {
    name: "GET /oauth/discovery/keys",
    server: "edge-oidc",
    reference: "static",
    request: { method: "GET", path: "/oauth/discovery/keys" },
  },
  // the token path (each grant: client auth, one call to the holder's UserGrants object, signatures)
  {
    name: "POST /oauth/token (client_credentials)",
    server: "edge-oidc",
    reference: "sign",
    async setup(ctx) {
      const f = await fixturesOf(ctx);
      return {
        method: "POST",
        path: "/oauth/token",
        headers: { ...FORM, authorization: f.basic },
        body: "grant_type=client_credentials",
      };
    },
  },
  codeExchange("POST /oauth/token (authorization_code)", (f) => f.webClientId),
  // The same exchange for an app whose ID tokens are ES256: what the RS256 signature costs.
  codeExchange("POST /oauth/token (authorization_code, ES256 ID token)", (f) => f.webEs256ClientId),
  // Each use rotates the token (a reuse would revoke its family), so one token per request.
  tokenGrant("POST /oauth/token (refresh_token)", "peer: POST /oauth/token (refresh_token)", async (ctx, f) => ({
    pool: await mintRefreshTokens(ctx, poolSize(ctx, 3000)),
    body: (t) => refreshBody(f, t),
  })),
  {
    name: "GET /oauth/userinfo",
    server: "edge-oidc",
    reference: "jwt-do-read",
    peer: "peer: GET /api/userinfo",
    goal: { floor: 0.9, peer: 1.2 },
    async setup(ctx) {
      const { access_token } = await mintTokens(ctx);
      return { method: "GET", path: "/oauth/userinfo", headers: { authorization: `Bearer ${access_token}` } };
    },
  },
  {
    // The peer has no introspection endpoint: its token check is its protected API route.
    name: "POST /oauth/introspect",
    server: "edge-oidc",
    reference: "jwt-do-read-form",
    peer: "peer: GET /api/userinfo",
    goal: { floor: 0.9, peer: 1.2 },
    async setup(ctx) {
      const f = await fixturesOf(ctx);
      const { access_token } = await mintTokens(ctx);
      return {
        method: "POST",
        path: "/oauth/introspect",
        headers: { ...FORM, authorization: f.basic },
        body: `token=${access_token}`,
      };
    },
  },
  // DPoP (RFC 9449) beside the same requests without: each carries a fresh proof (single-use jti, the
  // server's nonce; at UserInfo `ath` of a bound token). "÷ plain" in the report is the cost of DPoP.
  {
    name: "POST /oauth/token (client_credentials, DPoP)",
    server: "edge-oidc",
    reference: "sign",
    plain: "POST /oauth/token (client_credentials)",
    async setup(ctx) {
      const f = await fixturesOf(ctx);
      const request = { method: "POST", path: "/oauth/token", headers: { ...FORM, authorization: f.basic } };
      return withDpopProofs(ctx, { ...request, body: "grant_type=client_credentials" }, poolSize(ctx));
    },
  },
  {
    name: "POST /oauth/token (authorization_code, DPoP)",
    server: "edge-oidc",
    reference: "do-sign",
    plain: "POST /oauth/token (authorization_code)",
    async setup(ctx) {
      const f = await fixturesOf(ctx);
      const codes = await mintCodes(ctx, poolSize(ctx, 3000));
      const request = { method: "POST", path: "/oauth/token", headers: FORM };
      return withDpopProofs(ctx, request, codes.length, { body: (i) => codeExchangeBody(f, codes[i]) });
    },
  },
  {
    name: "GET /oauth/userinfo (DPoP)",
    server: "edge-oidc",
    reference: "jwt-do-read",
    plain: "GET /oauth/userinfo",
    async setup(ctx) {
      const token = await mintDpopBoundAccessToken(ctx);
      const request = { method: "GET", path: "/oauth/userinfo", headers: { authorization: `DPoP ${token}` } };
      return withDpopProofs(ctx, request, poolSize(ctx), { accessToken: token });
    },
  },
  {
    name: "POST /oauth/revoke",
    server: "edge-oidc",
    reference: "do-sign",
    peer: "peer: POST /oauth/token (revocation)",
    async setup(ctx) {
      // A distinct access token per request (the service app's own, so it may revoke them).
      const f = await fixturesOf(ctx);
      const tokens = await mintServiceTokens(ctx, poolSize(ctx, 4000));
      return singleUse("/oauth/revoke", tokens, (t) => `token=${t}`, { authorization: f.basic });
    },
  },
  {
    name: "GET /oauth/authorize (signed in, consented → code)",
    server: "edge-oidc",
    reference: "d1-do-sign",
    // Success here is the 302 back to the client with a code.
    okStatus: 302,
    goal: { floor: 0.8 },
    async setup(ctx) {
      const f = await fixturesOf(ctx);
      return { method: "GET", path: authorizePath(f), headers: { cookie: f.cookie } };
    },
  },
  {
    name: "POST /oauth/register",
    server: "edge-oidc",
    reference: "d1-do-sign",
    goal: { floor: 0.9 },
    request: {
      method: "POST",
      path: "/oauth/register",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "bench",
        redirect_uris: ["https://bench.example/callback"],
        token_endpoint_auth_method: "client_secret_basic",
      }),
    },
  },
  // the peer, @cloudflare/workers-oauth-provider (bench/peer/): the same jobs, paired with the same floors
  {
    name: "peer: GET /api/userinfo",
    server: "peer",
    reference: "jwt-do-read",
    async setup(ctx) {
      return {
        method: "GET",
        path: "/api/userinfo",
        headers: { authorization: `Bearer ${await mintPeerAccessToken(ctx)}` },
      };
    },
  },
  {
    name: "peer: POST /oauth/token (authorization_code)",
    server: "peer",
    reference: "do-sign",
    async setup(ctx) {
      const f = await peerFixturesOf(ctx);
      const codes = await mintPeerCodes(ctx, poolSize(ctx, 3000));
      return singleUse("/oauth/token", codes, (code) => codeExchangeBody(f, code));
    },
  },
  {
    name: "peer: POST /oauth/token (refresh_token)",
    server: "peer",
    reference: "do-sign",
    async setup(ctx) {
      const f = await peerFixturesOf(ctx);
      const tokens = await mintPeerRefreshTokens(ctx, poolSize(ctx, 3000));
      return singleUse("/oauth/token", tokens, (t) => refreshBody(f, t));
    },
  },
  {
    // RFC 7009 revocation lives at the peer's token endpoint (its metadata's revocation_endpoint).
    name: "peer: POST /oauth/token (revocation)",
    server: "peer",
    reference: "do-sign",
    async setup(ctx) {
      const f = await peerFixturesOf(ctx);
      const tokens = await mintPeerConfidentialTokens(ctx, poolSize(ctx, 4000));
      return singleUse("/oauth/token", tokens, (t) => `token=${t}`, { authorization: f.basic });
    },
  },
  // references (keep them last in the table)
  { name: "reference: static JSON", server: "static", request: { method: "GET", path: "/" } },
  // The references receive what the requests they stand for carry (a token request is never empty):
  // the proxy and runtime cost of a request body is part of every token request's floor.
  {
    name: "reference: one ES256 signature",
    server: "sign",
    request: {
      method: "POST",
      path: "/",
      headers: { ...FORM, authorization: REFERENCE_BASIC },
      body: REFERENCE_CC_FORM,
    },
  },
  // A token check carries the access token as a bearer header (RFC 6750 §2.1), as UserInfo's does,
  // or, as introspection's does, in a POSTed form body (RFC 7662 §2.1): the same worker, two floors.
  {
    name: "reference: JWT verify + DO read",
    server: "jwt-do-read",
    request: { method: "GET", path: "/", headers: { authorization: REFERENCE_BEARER } },
  },
  {
    name: "reference: JWT verify + DO read, form body",
    server: "jwt-do-read",
    floor: "jwt-do-read-form",
    request: { method: "POST", path: "/", headers: FORM, body: `token=${REFERENCE_BEARER.slice("Bearer ".length)}` },
  },
  {
    name: "reference: DO write + ES256",
    server: "do-sign",
    request: { method: "POST", path: "/", headers: FORM, body: REFERENCE_CODE_FORM },
  },
  {
    name: "reference: D1 read + DO write + ES256",
    server: "d1-do-sign",
    request: { method: "POST", path: "/", headers: FORM, body: REFERENCE_CODE_FORM },
  },
];

/**
 * A token request that spends a single-use credential (a code, a refresh token), against the
 * "DO write + ES256" floor and the peer's row: `credentials` mints the pool right before the run and
 * says how each is sent.
 */
function tokenGrant(name, peer, credentials) {
  return {
    name,
    server: "edge-oidc",
    reference: "do-sign",
    peer,
    goal: { floor: 0.9, peer: 1.3, p99: 1.25 },
    async setup(ctx) {
      const { pool, body } = await credentials(ctx, await fixturesOf(ctx));
      return singleUse("/oauth/token", pool, body);
    },
  };
}

/** A code exchange of one of the bench web apps (`clientOf` picks it). Codes live 60 s. */
function codeExchange(name, clientOf) {
  return tokenGrant(name, "peer: POST /oauth/token (authorization_code)", async (ctx, f) => {
    const clientId = clientOf(f);
    return {
      pool: await mintCodes(ctx, poolSize(ctx, 3000), clientId),
      body: (code) => codeExchangeBody(f, code, clientId),
    };
  });
}

/** What a server with no fixed request in TARGETS answers in its burn-in and priming. */
const SERVER_REQUESTS = {
  peer: { method: "GET", path: "/.well-known/oauth-authorization-server" },
};

/** The name endpoints give a reference row in `reference`: its `floor`, else its server's name. */
const floorOf = (t) => t.floor ?? t.server;

/** The first fixed request of `server` in TARGETS (edge-oidc: the discovery document), else its own. */
const fixedRequestOf = (server) =>
  TARGETS.find((t) => t.server === server && t.request)?.request ?? SERVER_REQUESTS[server];

/**
 * autocannon settings that send each pooled credential once, ending the run when the pool is spent.
 * Oldest first: a code lives 60 s, and when the reference runs first its pool waits a whole run
 * before use; spending the newest first left the oldest codes to expire at the end of the run
 * (seen on a slow machine: 233 invalid_grant answers in one code-exchange run).
 */
function singleUse(path, pool, body, headers = {}) {
  return perRequest({ method: "POST", path, headers: { ...FORM, ...headers } }, pool, (item) => ({ body: body(item) }));
}

/**
 * `request` sent once per item of `pool` (then the run ends): `make(item)` gives that request's body
 * and/or extra headers (a code, a refresh token, a DPoP proof).
 */
function perRequest(request, pool, make) {
  let next = 0;
  return {
    amount: pool.length,
    requests: [
      {
        ...request,
        setupRequest: (req) => {
          const { body, headers } = make(pool[Math.min(next++, pool.length - 1)]);
          return { ...req, ...(body === undefined ? {} : { body }), headers: { ...req.headers, ...headers } };
        },
      },
    ],
  };
}

/**
 * `request` sent `n` times, each with its own DPoP proof for its method and path (RFC 9449 §4.2;
 * `accessToken` adds `ath`), minted before the run; `body(i)` gives the i-th request's body if it varies.
 */
async function withDpopProofs(ctx, request, n, { accessToken, body } = {}) {
  const proofs = await mintDpopProofs(ctx, n, { htm: request.method, path: request.path, accessToken });
  return perRequest(
    request,
    proofs.map((dpop, i) => [dpop, i]),
    ([dpop, i]) => ({ body: body?.(i), headers: { dpop } }),
  );
}

const env = process.env;
const int = (name, fallback) => (env[name] === undefined || env[name] === "" ? fallback : Number(env[name]));
const SETTINGS = {
  seconds: int("BENCH_SECONDS", 10),
  repeats: int("BENCH_REPEATS", 3),
  warmupSeconds: int("BENCH_WARMUP_SECONDS", 2),
  connections: (env.BENCH_CONNECTIONS ?? "8,32").split(",").map(Number),
  serverCpus: env.BENCH_SERVER_CPUS ?? "0",
  loadCpus: env.BENCH_LOAD_CPUS ?? "1",
  logLevel: env.BENCH_LOG_LEVEL ?? "warn",
  burnIn: int("BENCH_BURN_IN", 50000),
};

function versionOf(pkg) {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
}

/** Pin this process (the load generator, all its threads) to the load cores; false if not possible. */
function pinLoadGenerator() {
  if (cpus().length < 2 || pinPrefix(SETTINGS.loadCpus).length === 0) return false;
  return (
    spawnSync("taskset", ["-a", "-p", "-c", SETTINGS.loadCpus, String(process.pid)], { stdio: "ignore" }).status === 0
  );
}

/**
 * Every server answers the same number of requests before anything is measured. A `wrangler dev`
 * server's latency tail depends on how many requests it has already answered (both of its workerd
 * processes grow by tens of kilobytes per request for the first few tens of thousands): after 9,000
 * requests more than the static reference, the discovery document's p99 was 56 ms against the
 * reference's 27–34 ms; at equal histories the two were alike. edge-oidc answers far more requests
 * than any reference (ten targets and the minting of every pool), so without this its rows would be
 * measured on a used server against nearly fresh references. The effect levels off only after a few
 * tens of thousands of requests (the static reference alone: p99 58–65 ms after 12,000 requests,
 * 93 ms after 24,000, 105 ms after 36,000, then 114–141 ms from 48,000 to 72,000), so the burn-in
 * takes every server past that point: later differences in history then no longer move its tail.
 * Each server gets requests of a kind it is measured on: a reference its own request, edge-oidc and
 * the peer their discovery documents.
 */
async function burnIn(servers, targets) {
  for (const [name, server] of Object.entries(servers)) {
    if (!targets.some((t) => t.server === name)) continue;
    // Also when BENCH_ONLY left that request's own row out of this run.
    const { path = "/", ...request } = fixedRequestOf(name);
    const started = Date.now();
    const r = await autocannon({ url: `${server.url}${path}`, connections: 8, amount: SETTINGS.burnIn, ...request });
    console.log(
      `burn-in ${name}: ${r.requests.total} requests in ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
        `non-2xx ${r.non2xx} errors ${r.errors + r.timeouts}`,
    );
  }
}

/** What autocannon should send for one run of `target` (setup() mints single-use pools here). */
async function prepare(target, server, connections, seconds, lastRps, warmup) {
  const expectedRequests = Math.ceil((lastRps ?? 3000) * seconds * 1.5);
  const ctx = { baseUrl: server.url, adminToken: server.adminToken, connections, seconds, expectedRequests, warmup };
  return target.setup ? target.setup(ctx) : target.request;
}

/** One run. `latencies` holds every response's time (ms), so a cell's percentiles pool its repeats. */
async function measure(target, server, connections, seconds, prepared) {
  const { path = "/", ...request } = prepared;
  const latencies = [];
  const before = groupSnapshot(server.pid);
  // autocannon takes the path of a fixed request from the URL; `requests` entries carry their own.
  const started = performance.now();
  let lastResponse = started;
  const instance = autocannon({ url: `${server.url}${path}`, connections, duration: seconds, ...request });
  instance.on("response", (_client, _status, _bytes, ms) => {
    latencies.push(ms);
    lastResponse = performance.now();
  });
  const result = await instance;
  const after = groupSnapshot(server.pid);
  const requests = result.requests.total;
  // autocannon notices a used-up pool (`amount`) only at its next once-a-second tick and reports that
  // time, rounded up to a whole second: a pool used up at 5.1 s would count as 6 s (17% fewer req/s).
  // A pool run lasts until its last response.
  const elapsed = request.amount === undefined ? result.duration : (lastResponse - started) / 1000;
  return {
    target: target.name,
    connections,
    seconds: elapsed,
    requests,
    rps: requests / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    latencies,
    cpuMsPerRequest: before && after && requests > 0 ? (after.cpuMs - before.cpuMs) / requests : null,
    // wrangler dev rebuilds and restarts workerd when a watched file changes (someone editing src/).
    reloaded: Boolean(before && after && before.pids !== after.pids),
    // autocannon counts every non-2xx; a target whose success is another status says so (okStatus).
    non2xx: target.okStatus ? requests - (result.statusCodeStats?.[target.okStatus]?.count ?? 0) : result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** A run without its per-response latencies (for the JSON file: those are summarised per cell). */
const withoutLatencies = ({ latencies, ...run }) => ({ ...run, responses: latencies.length });

/** What follows KEPT_MARKER in docs/benchmarks.md (written by people: before → after comparisons), kept by a run. */
function keptSection(docFile) {
  const text = existsSync(docFile) ? readFileSync(docFile, "utf8") : "";
  const at = text.indexOf(KEPT_MARKER);
  return at === -1 ? "" : text.slice(at);
}

async function main() {
  if (Number(process.versions.node.split(".")[0]) < 22) {
    throw new Error(`Node ${process.version}: run this through \`npm run bench\` (wrangler needs Node 22)`);
  }
  if (SETTINGS.seconds <= 0 || SETTINGS.repeats <= 0) {
    console.log("bench: skipped (BENCH_SECONDS or BENCH_REPEATS is 0)");
    return;
  }
  const only = env.BENCH_ONLY ? env.BENCH_ONLY.split(",").filter(Boolean) : [];
  const chosen = TARGETS.filter(
    (t) => t.reference && t.server !== "peer" && (only.length === 0 || only.some((o) => t.name.includes(o))),
  );
  // Peer rows, the plain rows DPoP rows are compared with, and references are measured only next to
  // an endpoint that names them, so only those used are kept.
  const named = (t) => chosen.some((e) => e.peer === t.name || e.plain === t.name);
  const endpoints = [...chosen, ...TARGETS.filter((t) => !chosen.includes(t) && named(t))];
  const targets = [
    ...endpoints,
    ...TARGETS.filter((t) => !t.reference && endpoints.some((e) => e.reference === floorOf(t))),
  ];
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const resultsDir = join(PROJECT_ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });

  // The 1-minute load average before anything starts: how busy the machine already was.
  const loadBefore = loadavg()[0];
  const pinned = pinLoadGenerator();
  const pinning = pinned
    ? `servers on core(s) ${SETTINGS.serverCpus}, load generator on core(s) ${SETTINGS.loadCpus} (taskset)`
    : "none (taskset missing or fewer than 2 cores)";
  console.log(`bench: starting servers (${pinning})`);
  const { servers, stopAll } = await startServers({
    cpus: pinned ? SETTINGS.serverCpus : undefined,
    logPrefix: join(resultsDir, stamp),
    names: [...new Set(targets.map((t) => t.server))],
  });
  const stop = () => stopAll().then(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  const runs = [];
  const discarded = [];
  const lastRps = new Map();
  try {
    // Prime each server (first request: bundle evaluation, key import, D1 open) before warming up.
    for (const name of Object.keys(servers)) {
      const { path = "/", ...request } = fixedRequestOf(name);
      await fetch(`${servers[name].url}${path}`, request).then((r) => r.arrayBuffer());
    }
    if (SETTINGS.burnIn > 0) await burnIn(servers, targets);
    for (const t of targets) {
      const server = servers[t.server];
      const prepared = await prepare(t, server, SETTINGS.connections[0], SETTINGS.warmupSeconds, undefined, true);
      const r = await measure(t, server, SETTINGS.connections[0], SETTINGS.warmupSeconds, prepared);
      lastRps.set(t.name, r.rps);
      console.log(`warm-up ${t.name}: ${r.rps.toFixed(0)} req/s, non-2xx ${r.non2xx}`);
    }
    /** A measured run of `t`, measured again (pool minted afresh) if wrangler reloaded the worker. */
    const measured = async (t, connections, repeat, prepared) => {
      const server = servers[t.server];
      const fresh = () => prepare(t, server, connections, SETTINGS.seconds, lastRps.get(t.name), false);
      let r = await measure(t, server, connections, SETTINGS.seconds, prepared ?? (await fresh()));
      for (let retry = 0; r.reloaded && retry < 3; retry++) {
        console.log(`#${repeat} c=${connections} ${t.name}: the server reloaded during the run; measuring again`);
        discarded.push({ repeat, ...withoutLatencies(r) });
        r = await measure(t, server, connections, SETTINGS.seconds, await fresh());
      }
      lastRps.set(t.name, r.rps);
      console.log(
        `#${repeat} c=${connections} ${t.name}: ${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms ` +
          `cpu ${r.cpuMsPerRequest?.toFixed(2)} ms/req ` +
          `non-2xx ${r.non2xx} errors ${r.errors + r.timeouts}`,
      );
      return r;
    };
    // Each endpoint's run is paired with a run of its reference right next to it, so a ratio compares
    // two runs seconds apart, not minutes (this machine's speed drifts by tens of percent over minutes).
    // The pair's order alternates between repeats; a pool is minted before either run (codes live 60 s).
    const references = new Map(targets.filter((t) => !t.reference).map((t) => [floorOf(t), t]));
    let pair = 0;
    for (let repeat = 1; repeat <= SETTINGS.repeats; repeat++) {
      for (const connections of SETTINGS.connections) {
        for (const t of targets.filter((x) => x.reference)) {
          const ref = references.get(t.reference);
          const prepared = await prepare(
            t,
            servers[t.server],
            connections,
            SETTINGS.seconds,
            lastRps.get(t.name),
            false,
          );
          pair++;
          const order = repeat % 2 === 1 ? [t, ref] : [ref, t];
          for (const x of order) {
            const r = await measured(x, connections, repeat, x === t ? prepared : undefined);
            runs.push({ repeat, pair, role: x === t ? "endpoint" : "reference", ...r });
          }
        }
      }
    }
  } finally {
    await stopAll();
  }

  const rows = summarize(targets, runs);
  const machine = {
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    node: process.version,
    wrangler: versionOf("wrangler"),
    autocannon: versionOf("autocannon"),
    os: `${type()} ${release()}`,
    // Load averages (1 min) of the whole machine, including this run's own 2 busy cores' worth.
    loadBefore: Number(loadBefore.toFixed(2)),
    loadAfter: Number(loadavg()[0].toFixed(2)),
  };
  const settings = { ...SETTINGS, pinning, discardedRuns: discarded.length };
  const resultFile = join(resultsDir, `${stamp}.json`);
  const stored = { machine, settings, rows, runs: runs.map(withoutLatencies), discarded };
  writeFileSync(resultFile, `${JSON.stringify(stored, null, 2)}\n`);
  // Formatted like the rest of the repo, so `npm run lint` (biome check .) stays clean after a run.
  spawnSync("biome", ["format", "--write", resultFile], { stdio: "ignore" });
  console.log(
    `\n${summaryTable(rows)}\n\n${targetTable(rows)}\n\n${dpopTable(rows)}\n\nbench: raw results in ${relative(PROJECT_ROOT, resultFile)}`,
  );
  if (env.BENCH_DOCS !== "0") {
    const docFile = join(PROJECT_ROOT, "docs", "benchmarks.md");
    const kept = keptSection(docFile);
    const doc = markdown({ machine, settings, rows, resultFile: relative(PROJECT_ROOT, resultFile) });
    writeFileSync(docFile, kept ? `${doc}\n${kept}` : doc);
    spawnSync("biome", ["format", "--write", docFile], { stdio: "ignore" }); // aligned table, as lint wants
    console.log("bench: docs/benchmarks.md rewritten");
  }
}

await main();
