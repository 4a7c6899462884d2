#!/usr/bin/env node
/**
 * `npm run dev`: local D1 migrations, the Demo seed (idempotent), then `wrangler dev` on
 * 127.0.0.1:8787 with dev sign-in on and a local ADMIN_API_TOKEN (scripts/local-defaults.mjs). Extra arguments go to `wrangler dev`
 * (e.g. `npm run dev -- --port 8788 --persist-to /tmp/state`).
 *
 * It asks nothing, in a terminal too. `wrangler d1 migrations apply` asks "About to apply N
 * migration(s) … continue?" unless it runs non-interactively: wrangler's `confirm` takes its
 * fallback ("yes") when `isNonInteractiveOrCI()` holds, i.e. stdin or stdout is not a TTY or
 * ci-info detects CI (wrangler-dist/cli.js, src/dialogs.ts and workers-utils is-interactive.ts).
 * So the setup steps run with stdin ignored and their output in a log file (<state>/dev-setup.log):
 * no prompt whatever the environment, and no pages of migration tables on the person's screen.
 * `wrangler dev` itself keeps the terminal (its request log and hotkeys).
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DEMO_ACCOUNTS, LOCAL_ADMIN_API_TOKEN, LOCAL_ORIGIN } from "./local-defaults.mjs";
import { quietEnv } from "./start-server.mjs";

const extra = process.argv.slice(2);
const env = quietEnv();

/** The value of `--name value` or `--name=value` among the extra arguments. */
function argValue(name) {
  for (const [i, arg] of extra.entries()) {
    if (arg === name) return extra[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

const persistTo = argValue("--persist-to");
const persist = persistTo ? ["--persist-to", persistTo] : [];
// wrangler's own default state folder when --persist-to is not given.
const stateDir = persistTo ?? join(".wrangler", "state");
mkdirSync(stateDir, { recursive: true });
const setupLog = join(stateDir, "dev-setup.log");

function setup(args) {
  const fd = openSync(setupLog, "a");
  writeSync(fd, `\n$ wrangler ${args.join(" ")}\n`);
  const r = spawnSync("wrangler", args, { stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  if (r.status !== 0) {
    const tail = readFileSync(setupLog, "utf8").split("\n").slice(-30).join("\n");
    console.error(`${tail}\n\nnpm run dev: \`wrangler ${args.join(" ")}\` failed; its whole output is in ${setupLog}`);
    process.exit(r.status ?? 1);
  }
}

closeSync(openSync(setupLog, "w")); // one run's output at a time
console.log(`Applying the local D1 migrations and the Demo seed (wrangler's output: ${setupLog})`);
setup(["d1", "migrations", "apply", "DB", "--local", ...persist]);
setup(["d1", "execute", "DB", "--local", "--file", "seed/demo.sql", ...persist]);

// A local operator token so `npm run admin` works out of the box (callers may pass their own).
const localVars = ["--var", "DEV_SIGNIN:true"];
const ownToken = extra.find((a) => a.startsWith("ADMIN_API_TOKEN:"))?.slice("ADMIN_API_TOKEN:".length);
if (!ownToken) localVars.push("--var", `ADMIN_API_TOKEN:${LOCAL_ADMIN_API_TOKEN}`);

const defaults = new URL(LOCAL_ORIGIN);
const ip = argValue("--ip") ?? defaults.hostname;
const host = ip === "0.0.0.0" || ip === "::" ? "127.0.0.1" : ip.includes(":") ? `[${ip}]` : ip;
const origin = `http://${host}:${argValue("--port") ?? defaults.port}`;

/** What a person needs next: where it listens, who can sign in, how to make an app. */
function summary() {
  const token = ownToken ?? (origin === LOCAL_ORIGIN ? undefined : LOCAL_ADMIN_API_TOKEN);
  const admin = `${token ? `ADMIN_API_TOKEN=${token} ` : ""}npm run admin -- create-app${origin === LOCAL_ORIGIN ? "" : ` --url ${origin}`}`;
  const accounts = DEMO_ACCOUNTS.map(
    (a) => `    ${a.email.padEnd(22)} ${a.role.padEnd(9)} (on-call ${a.onCallRole})`,
  ).join("\n");
  return `
edge-oidc is ready on ${origin}
  discovery  ${origin}/.well-known/openid-configuration
  sign in    ${origin}/  (dev sign-in: type one of the Demo team's emails)
${accounts}
  create an app
    ${admin} --name "Deploy bot" --type client_credentials \\
      --scope "ir.incidents:read" --team team_demo
    or in the browser at ${origin}/settings/oauth-applications as admin@example.com
  setup log  ${setupLog}
`;
}

const child = spawn("wrangler", ["dev", ...localVars, ...extra], { stdio: "inherit", env });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
let exited = false;
child.on("exit", (code) => {
  exited = true;
  process.exit(code ?? 0);
});

// Print the summary once discovery answers (OpenID Connect Discovery 1.0 §4), after wrangler's "Ready".
for (;;) {
  if (exited) break;
  try {
    const res = await fetch(`${origin}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    if (res.ok) {
      console.log(summary());
      break;
    }
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 250));
}
