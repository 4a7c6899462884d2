/**
 * Summaries of benchmark runs and docs/benchmarks.md. Each endpoint run (edge-oidc's or the peer's) is
 * paired with a run of its reference right next to it. A (target, connections) cell shows the median
 * req/s and CPU of its repeats, and p50/p99 of all its responses pooled; its ratios are the median of
 * its pairs' ratios (req/s, CPU) and the pooled p99 over the pooled p99 of its paired reference runs.
 * An endpoint with a peer row is compared with it through their common floor: req/s ÷ peer is the
 * endpoint's req/s ÷ ref over the peer's (each drift-corrected by its own pairs), p99 ÷ peer the
 * pooled p99s. Non-2xx, errors and timeouts are summed, so a single failure shows.
 */

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Nearest-rank percentile of the responses of several runs together. */
function pooledPercentile(runs, p) {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return all.length ? all[Math.max(0, Math.ceil((p / 100) * all.length) - 1)] : null;
}

const cpuOf = (runs) =>
  runs.some((r) => r.cpuMsPerRequest === null) ? null : median(runs.map((r) => r.cpuMsPerRequest));

/** One summary row per target and connection count, with ratios to the target's reference. */
export function summarize(targets, runs) {
  const rows = [];
  for (const target of targets) {
    const byConnections = new Map();
    for (const run of runs.filter((r) => r.target === target.name)) {
      byConnections.set(run.connections, [...(byConnections.get(run.connections) ?? []), run]);
    }
    for (const [connections, cell] of byConnections) {
      const row = {
        target: target.name,
        server: target.server,
        reference: target.reference ?? null,
        /** On a reference row: the name endpoints give it (run.mjs `floor`). */
        floor: target.reference ? null : (target.floor ?? target.server),
        connections,
        repeats: cell.length,
        rps: median(cell.map((r) => r.rps)),
        p50: pooledPercentile(cell, 50),
        p99: pooledPercentile(cell, 99),
        cpuMsPerRequest: cpuOf(cell),
        non2xx: cell.reduce((n, r) => n + r.non2xx, 0),
        errors: cell.reduce((n, r) => n + r.errors + r.timeouts, 0),
        requests: cell.reduce((n, r) => n + r.requests, 0),
        rpsRatio: null,
        p99Ratio: null,
        cpuRatio: null,
        peer: target.peer ?? null,
        plain: target.plain ?? null,
        goal: target.goal ?? null,
        rpsVsPeer: null,
        p99VsPeer: null,
        rpsVsPlain: null,
        cpuExtra: null,
      };
      if (target.reference) {
        const pairs = cell
          .map((r) => [r, runs.find((x) => x.pair === r.pair && x.role === "reference")])
          .filter(([, ref]) => ref);
        const refs = pairs.map(([, ref]) => ref);
        row.rpsRatio = median(pairs.map(([r, ref]) => r.rps / ref.rps));
        const refP99 = pooledPercentile(refs, 99);
        row.p99Ratio = refP99 ? row.p99 / refP99 : null;
        row.cpuRatio = pairs.every(([r, ref]) => r.cpuMsPerRequest !== null && ref.cpuMsPerRequest)
          ? median(pairs.map(([r, ref]) => r.cpuMsPerRequest / ref.cpuMsPerRequest))
          : null;
      }
      rows.push(row);
    }
  }
  for (const row of rows.filter((r) => r.peer)) {
    const peer = rows.find((r) => r.target === row.peer && r.connections === row.connections);
    if (!peer) continue;
    row.rpsVsPeer = row.rpsRatio !== null && peer.rpsRatio ? row.rpsRatio / peer.rpsRatio : null;
    // Paired with different floors (introspection's reads a form body, the peer's check is a GET):
    // bring both to one scale by the two floors' own ratio, so a slower floor does not flatter the row.
    if (row.rpsVsPeer !== null && row.reference !== peer.reference) {
      const floorRow = (name) => rows.find((r) => r.floor === name && r.connections === row.connections);
      const [own, theirs] = [floorRow(row.reference), floorRow(peer.reference)];
      row.rpsVsPeer = own?.rps && theirs?.rps ? (row.rpsVsPeer * own.rps) / theirs.rps : null;
    }
    row.p99VsPeer = row.p99 !== null && peer.p99 ? row.p99 / peer.p99 : null;
  }
  for (const row of rows.filter((r) => r.plain)) {
    const plain = rows.find((r) => r.target === row.plain && r.connections === row.connections);
    if (!plain) continue;
    row.rpsVsPlain = row.rpsRatio !== null && plain.rpsRatio ? row.rpsRatio / plain.rpsRatio : null;
    row.cpuExtra =
      row.cpuMsPerRequest !== null && plain.cpuMsPerRequest !== null
        ? row.cpuMsPerRequest - plain.cpuMsPerRequest
        : null;
  }
  return rows;
}

const fmt = (n, digits = 0) => (n === null || n === undefined ? "—" : n.toFixed(digits));

export function summaryTable(rows) {
  const lines = [
    "| endpoint | conns | req/s | p50 ms | p99 ms | CPU ms/req | non-2xx | errors | reference | req/s ÷ ref | p99 ÷ ref | CPU ÷ ref |",
    "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.target} | ${r.connections} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ` +
        `${fmt(r.cpuMsPerRequest, 2)} | ${r.non2xx} | ${r.errors} | ${r.reference ?? "(is one)"} | ` +
        `${fmt(r.rpsRatio, 2)} | ${fmt(r.p99Ratio, 2)} | ${fmt(r.cpuRatio, 2)} |`,
    );
  }
  return lines.join("\n");
}

/** "0.93 ≥ 0.9 ✓" — a ratio against its target (`atLeast` false for a ceiling). */
function against(value, target, atLeast = true) {
  if (target === undefined) return fmt(value, 2);
  if (value === null || value === undefined) return `— (${atLeast ? "≥" : "≤"} ${target})`;
  const met = atLeast ? value >= target : value <= target;
  return `${fmt(value, 2)} ${atLeast ? "≥" : "≤"} ${target} ${met ? "✓" : "✗"}`;
}

/** Each endpoint's ratios to its floor and to the peer, next to its targets where it has any. */
export function targetTable(rows) {
  const lines = [
    "| endpoint | conns | floor | req/s ÷ floor | p99 ÷ floor | peer row | req/s ÷ peer | p99 ÷ peer |",
    "|---|--:|---|---|---|---|---|--:|",
  ];
  for (const r of rows.filter((x) => x.reference && x.server !== "peer" && (x.goal || x.peer))) {
    const g = r.goal ?? {};
    lines.push(
      `| ${r.target} | ${r.connections} | ${r.reference} | ${against(r.rpsRatio, g.floor)} | ` +
        `${against(r.p99Ratio, g.p99, false)} | ${r.peer ?? "—"} | ${against(r.rpsVsPeer, g.peer)} | ` +
        `${fmt(r.p99VsPeer, 2)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * What DPoP costs: each DPoP row beside the same request without. req/s ÷ plain is the DPoP row's
 * req/s ÷ ref over the plain row's (same reference, each drift-corrected by its own pairs); the extra
 * CPU is per request, set beside the CPU one ES256 signature adds to a request ("sign" − "static"
 * when both references ran).
 */
export function dpopTable(rows) {
  const dpop = rows.filter((r) => r.plain);
  if (dpop.length === 0) return "No DPoP rows in this run.";
  const cpu = (name) => rows.find((r) => r.target === name)?.cpuMsPerRequest ?? null;
  const sign = cpu("reference: one ES256 signature");
  const bare = cpu("reference: static JSON");
  const signature = sign !== null && bare !== null ? sign - bare : null;
  const lines = [
    "| DPoP row | conns | without | req/s ÷ plain | CPU ms/req extra | one ES256 signature (sign − static), ms |",
    "|---|--:|---|--:|--:|--:|",
  ];
  for (const r of dpop) {
    lines.push(
      `| ${r.target} | ${r.connections} | ${r.plain} | ${fmt(r.rpsVsPlain, 2)} | ${fmt(r.cpuExtra, 2)} | ${fmt(signature, 2)} |`,
    );
  }
  return lines.join("\n");
}

/** docs/benchmarks.md from this line on is written by people and kept by every run (run.mjs). */
export const KEPT_MARKER = "<!-- kept across runs: everything below is written by hand -->";

export function markdown({ machine, settings, rows, resultFile }) {
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.mjs) on ${machine.date}. Raw runs: \`${resultFile}\`
(bench/results/ is not committed). Re-run after any change to a hot path and commit this file.

## Machine and settings

- CPU: ${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; wrangler ${machine.wrangler}; autocannon ${machine.autocannon}; ${machine.os}
- Pinning: ${settings.pinning}
- Machine load (1-min load average) before the run: ${machine.loadBefore}; after: ${machine.loadAfter}
- Runs measured again because wrangler reloaded the worker mid-run (a watched file changed): ${settings.discardedRuns}
- Each cell: ${settings.repeats} run(s) of ${settings.seconds} s per connection count (${settings.connections.join(", ")}),
  interleaved (repeat → connections → every endpoint), each endpoint run paired with a run of its
  reference right next to it (order alternating between repeats), after a burn-in of
  ${settings.burnIn} requests per server and a ${settings.warmupSeconds} s warm-up of each target. req/s and
  CPU are medians of the runs; p50 and p99 are of all the cell's responses pooled.
- Every server is a real \`wrangler dev\` (local workerd, local D1/DO/KV, fresh state), started with
  \`--log-level ${settings.logLevel}\` so wrangler does not log each request.

## Results

${summaryTable(rows)}

## Against the floors and the peer

${targetTable(rows)}

## DPoP beside the same request without

${dpopTable(rows)}

## How to read this

- **static**, **sign**, **jwt-do-read**, **do-sign** and **d1-do-sign** are reference workers in
  bench/reference/ with the same compatibility date and flags as edge-oidc: a static JSON document
  (the ceiling for any GET), one ES256 signature per request (the one-signature reference), one ES256
  verification of an access token + one SQLite-backed Durable Object call doing one indexed read
  (the floor of UserInfo; sent introspection's form body, **jwt-do-read-form**, the floor of
  introspection), one Durable Object call with one write + one ES256
  signature (the floor of a code exchange, a refresh and, with a verification in place of the
  signature, a revocation), and one D1 point read + that Durable Object write + one signature (the
  floor of a design that also reads D1 on every call; the authorize and registration rows keep it).
- **DPoP** rows send the request of the row named "without" with \`Authorization: DPoP\` where a
  token is presented and a fresh proof (RFC 9449 §4: its own jti, the server's nonce, at UserInfo
  \`ath\`) on every request, minted before the run. Both rows are paired with the same reference, so
  "req/s ÷ plain" (the DPoP row's ratio over the plain row's) is what DPoP costs, and "CPU ms/req
  extra" its added CPU per request, set beside what one ES256 signature costs a request (the "sign"
  reference's CPU less the "static" one's, which also includes reading a small form).
- **peer** rows are @cloudflare/workers-oauth-provider (bench/peer/worker.ts, the same runtime under
  \`wrangler dev\`, its KV local like edge-oidc's stores) doing the same jobs: its token endpoint's
  code exchange, refresh and RFC 7009 revocation, and a protected API route answering the grant's
  claims (it has no UserInfo or introspection endpoint; that route is its token check, so both
  edge-oidc's UserInfo and introspection are compared with it). Its clients come from its dynamic
  registration, its codes from its own authorize flow (\`completeAuthorization\`), as in
  bench/fixtures.mjs. Each peer row is paired with the same floor as the edge-oidc row it stands
  beside; "req/s ÷ peer" is the edge-oidc row's "req/s ÷ ref" over the peer row's, so both are
  corrected for the machine's drift by their own pairs (introspection's floor reads a form body and
  the peer's check is a GET, so that row's is also multiplied by its floor's req/s over the peer's
  floor's: a slower floor does not flatter it), and "p99 ÷ peer" is the pooled p99s' ratio.
  The targets in that table (✓ met, ✗ not) are what the token path aims at; a ✗ is a finding.
- The references are sent what the requests they stand for carry: **sign** a client_credentials
  request (Basic header, form body), **do-sign** and **d1-do-sign** a code exchange's form (a code of
  real length), which they read first, **jwt-do-read** a bearer access token of edge-oidc's shape
  (UserInfo's request) and **jwt-do-read-form** the same token as the \`token\` field of a POSTed
  form (introspection's request, RFC 7662 §2.1; introspection's client authentication is not in that
  floor). A request body costs the \`wrangler dev\` proxy and the runtime real
  work, so a body-less reference would not be the floor of a token request.
- "req/s ÷ ref" near 1 means the endpoint costs about what its reference costs; "p99 ÷ ref" above 1 is
  tail latency the endpoint adds. Compare ratios, not absolute numbers: absolute figures include the
  \`wrangler dev\` proxy (two workerd processes) and depend on the machine.
- Ratios come from pairs: "req/s ÷ ref" and "CPU ÷ ref" are the medians of each endpoint run over the
  reference run next to it (seconds apart, so both saw the machine at the same speed; this machine's
  speed drifts by tens of percent over minutes), and "p99 ÷ ref" is the endpoint's pooled p99 over
  the pooled p99 of exactly those reference runs. A reference's own row pools all its runs.
- "CPU ms/req" is the user + system CPU time of the server's whole process group (wrangler, the
  proxy workerd and the worker's workerd) divided by the requests answered. It is the steadiest
  figure on a shared machine: other work slows the server down but does not add to its CPU time.
- Equal histories: a \`wrangler dev\` server's latency tail depends on how many requests it has
  already answered (both of its workerd processes grow by tens of kilobytes per request for the first
  few tens of thousands). Measured on the benchmark machine: after 9,000 requests more than the static reference, the
  discovery document's p99 was 56 ms against the reference's 27–34 ms; at equal histories the two
  were alike (36–62 ms against 34–55 ms, between 14,500 and 72,500 requests each). edge-oidc answers
  far more requests than any reference (ten targets, and the minting of every single-use pool). The
  effect grows until a server has answered a few tens of thousands of requests and then levels off
  (measured on the static reference alone: p99 58–65 ms after 12,000 requests, 93 ms after 24,000,
  105 ms after 36,000, 114–141 ms from 48,000 to 72,000). So every server first answers the same
  burn-in (${settings.burnIn} requests of a kind it is measured on), which takes it past that point, and
  every row is measured on a used server against used references.
- A weakness of the order: in the first repeat, each reference's first run comes after that server
  sat idle through edge-oidc's warm-ups, and an idle \`wrangler dev\` server answers its first second
  or two more slowly (measured on the benchmark machine: stalls adding 60–80 ms in the first 1.5 s of a run). That raises
  the references' pooled p99, in the endpoints' favour. The raw results keep every run's own p99, so
  the p99 ratio can also be read pair by pair.
- Any non-2xx or error count other than 0 means the run did not measure what it claims: fix that first.
- Numbers from a machine shared with other work are noisy; the medians of interleaved repeats reduce,
  but do not remove, that noise.
`;
}
