/**
 * The first run asks nothing, in a real terminal too (README "Two commands": `npm run dev` "needs no
 * network and asks nothing"). A person runs `npm run dev` in a terminal: wrangler sees a TTY on stdin
 * and stdout and, unless it detects CI, asks before it applies D1 migrations. Every other test runs
 * wrangler with piped stdio or CI=true, where it silently takes the default, so this one runs
 * `npm run dev` in a pseudo-terminal with CI=false, stdin open and never written to, from an empty
 * state folder, and then again on the same state (nothing left to apply).
 *
 * Readiness is OpenID Connect Discovery 1.0 §4: /.well-known/openid-configuration answers 200 with
 * the issuer.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNTS, LOCAL_ADMIN_API_TOKEN } from "../../scripts/local-defaults.mjs";
import { freePort, PROJECT_ROOT } from "../../scripts/start-server.mjs";
import { startInTerminal, type Terminal } from "./harness/terminal";

const MINUTE = 60_000;

let dir: string;
let port: number;
let baseUrl: string;
let stateDir: string;
let running: Terminal | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-oidc-first-run-"));
  stateDir = join(dir, "state");
  port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await running?.stop();
  if (dir && !process.env.E2E_KEEP_STATE) await rm(dir, { recursive: true, force: true });
});

/**
 * A person's shell: no CI markers (CI=false makes wrangler's ci-info say "not CI" whatever else is
 * set) and none of the quiet-wrangler settings the test runner exports; `npm run dev` sets its own.
 */
function personEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "false", TERM: process.env.TERM || "xterm-256color" };
  for (const name of [
    "WRANGLER_SEND_METRICS",
    "CLOUDFLARE_CF_FETCH_ENABLED",
    "WRANGLER_HIDE_BANNER",
    "WRANGLER_WRITE_LOGS",
    "NO_UPDATE_NOTIFIER",
  ]) {
    delete env[name];
  }
  return env;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the discovery document once it answers 200; fails after a minute, showing the screen. */
async function discoveryWithinAMinute(term: Terminal): Promise<{ issuer: string }> {
  const deadline = Date.now() + MINUTE;
  while (Date.now() < deadline) {
    if (term.exited() !== null) throw new Error(`npm run dev exited (${term.exited()}):\n${term.screen()}`);
    try {
      const res = await fetch(`${baseUrl}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return (await res.json()) as { issuer: string };
      await res.arrayBuffer();
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`no discovery at ${baseUrl} within a minute; the terminal shows:\n${term.screen()}`);
}

/** The summary `npm run dev` prints once the server answers (it comes right after readiness). */
async function summaryShown(term: Terminal): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (!term.screen().includes("create-app") && Date.now() < deadline) await sleep(100);
  return term.screen();
}

function startDev(): Terminal {
  running = startInTerminal(`npm run dev -- --port ${port} --persist-to ${stateDir}`, {
    cwd: PROJECT_ROOT,
    env: personEnv(),
  });
  return running;
}

async function stopDev(): Promise<void> {
  await running?.stop();
  running = undefined;
}

function expectShortUsefulSummary(screen: string): void {
  // Short: wrangler's bindings table, its hotkeys, a few request lines and the summary; no more.
  expect(screen.split("\n").length).toBeLessThan(60);
  expect(screen).toContain(baseUrl);
  for (const account of DEMO_ACCOUNTS) {
    expect(screen).toMatch(new RegExp(`${account.email.replace(/\./g, "\\.")}\\s+${account.role}\\b`));
  }
  expect(screen).toContain("npm run admin -- create-app");
  expect(screen).toContain(join(stateDir, "dev-setup.log"));
  // wrangler's migration tables and prompt stay in the log file.
  expect(screen).not.toContain("About to apply");
  expect(screen).not.toContain("Migrations to be applied");
  expect(screen).not.toContain("0000_init.sql");
}

it("the accounts npm run dev prints are the ones seed/demo.sql creates", async () => {
  const seed = await readFile(join(PROJECT_ROOT, "seed", "demo.sql"), "utf8");
  const seeded = [...seed.matchAll(/\('(usr_[\w]+)', 'human', '([^']+)'/g)].map(([, id, email]) => {
    const membership = new RegExp(`\\('${id}', 'team_demo', '(\\w+)', '(\\w+)'\\)`).exec(seed);
    return { email, role: membership?.[1], onCallRole: membership?.[2] };
  });
  expect(seeded).toEqual(DEMO_ACCOUNTS);
});

describe("npm run dev in a terminal, stdin open and never written to", () => {
  it(
    "first start on an empty state folder: migrates, seeds the Demo team and serves discovery within a minute",
    async () => {
      const term = startDev();
      try {
        const discovery = await discoveryWithinAMinute(term);
        expect(discovery.issuer).toMatch(/^http:\/\/127\.0\.0\.1:/);

        // The seed ran: the Demo team exists (the admin API answers 404 not_found for an unknown team).
        const apps = await fetch(`${baseUrl}/api/admin/apps?team_id=team_demo`, {
          headers: { authorization: `Bearer ${LOCAL_ADMIN_API_TOKEN}` },
        });
        expect(apps.status).toBe(200);

        expectShortUsefulSummary(await summaryShown(term));
        // wrangler's own output (the migration table) is kept in the setup log.
        expect(await readFile(join(stateDir, "dev-setup.log"), "utf8")).toContain("0000_init.sql");
      } finally {
        await stopDev();
      }
    },
    2 * MINUTE,
  );

  it(
    "second start on the same state (nothing to apply) serves discovery within a minute",
    async () => {
      const term = startDev();
      try {
        await discoveryWithinAMinute(term);
        expectShortUsefulSummary(await summaryShown(term));
        expect(await readFile(join(stateDir, "dev-setup.log"), "utf8")).toContain("No migrations to apply");
      } finally {
        await stopDev();
      }
    },
    2 * MINUTE,
  );
});
