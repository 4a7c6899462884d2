/**
 * The servers a benchmark run measures, each a real `wrangler dev` on 127.0.0.1 with fresh state:
 * the edge-oidc worker (started like `npm run dev`, as the e2e harness does), the reference workers
 * under bench/reference/ and the peer under bench/peer/ (@cloudflare/workers-oauth-provider). All are
 * pinned to the same core(s) so they compete equally.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startEdgeOidc, startServer } from "../scripts/start-server.mjs";

/**
 * Request logging makes wrangler's proxy call back into Node for every request, a fixed cost that
 * would shrink every ratio; `--log-level warn` turns it off (errors are still logged).
 */
const WRANGLER_QUIET = ["--log-level", process.env.BENCH_LOG_LEVEL ?? "warn"];

/** The other workers: their config, a D1 schema to apply first, and a path that answers 200 when ready. */
const WORKERS = {
  static: { config: "bench/reference/static/wrangler.toml" },
  sign: { config: "bench/reference/sign/wrangler.toml" },
  "d1-do-sign": {
    config: "bench/reference/d1-do-sign/wrangler.toml",
    schema: "bench/reference/d1-do-sign/schema.sql",
  },
  "do-sign": { config: "bench/reference/do-sign/wrangler.toml" },
  "jwt-do-read": { config: "bench/reference/jwt-do-read/wrangler.toml", readyPath: "/ready" },
  // The peer's token audience is its own origin, known only once the port is (worker.ts).
  peer: {
    config: "bench/peer/wrangler.toml",
    readyPath: "/.well-known/oauth-authorization-server",
    vars: (url) => ["--var", `ORIGIN:${url}`],
  },
};

export const SERVER_NAMES = ["edge-oidc", ...Object.keys(WORKERS)];

/**
 * Start the servers named in `names` (default: every one). Returns
 * { servers: { [name]: { url, pid, persistTo, adminToken? } }, stopAll() }; `pid` leads the server's
 * process group.
 * @param {{ cpus?: string, logPrefix: string, names?: string[] }} o  logs go to `${logPrefix}.<server>.log`
 */
export async function startServers(o) {
  const stateRoot = mkdtempSync(join(tmpdir(), "edge-oidc-bench-"));
  const running = [];
  const stopAll = async () => {
    for (const s of running.splice(0)) await s.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  };
  try {
    const servers = {};
    const wanted = new Set(o.names ?? SERVER_NAMES);
    const adminToken = randomBytes(30).toString("base64url");
    const port = await freePort();
    const worker =
      wanted.has("edge-oidc") &&
      (await startEdgeOidc({
        port,
        persistTo: join(stateRoot, "edge-oidc"),
        logFile: `${o.logPrefix}.edge-oidc.log`,
        // The registration limit (10/hour/IP) would stop a load test of /oauth/register at once.
        vars: { ADMIN_API_TOKEN: adminToken, REGISTRATION_LIMIT_PER_HOUR: "100000000" },
        args: WRANGLER_QUIET,
        cpus: o.cpus,
      }));
    if (worker) {
      running.push(worker);
      servers["edge-oidc"] = { url: worker.url, pid: worker.pid, adminToken, persistTo: join(stateRoot, "edge-oidc") };
    }

    for (const [name, ref] of Object.entries(WORKERS)) {
      if (!wanted.has(name)) continue;
      const refPort = await freePort();
      const { config } = ref;
      const url = `http://127.0.0.1:${refPort}`;
      const persistTo = join(stateRoot, name);
      const before = ref.schema
        ? [
            [
              "wrangler",
              "d1",
              "execute",
              "DB",
              "--local",
              "--config",
              config,
              "--persist-to",
              persistTo,
              "--file",
              ref.schema,
            ],
          ]
        : [];
      const server = await startServer({
        command: ["wrangler", "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(refPort)]
          .concat(["--persist-to", persistTo])
          .concat(ref.vars?.(url) ?? [])
          .concat(WRANGLER_QUIET),
        before,
        port: refPort,
        readyPath: ref.readyPath,
        logFile: `${o.logPrefix}.${name}.log`,
        cpus: o.cpus,
      });
      running.push(server);
      servers[name] = { url: server.url, pid: server.pid, persistTo };
    }
    return { servers, stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
