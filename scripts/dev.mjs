#!/usr/bin/env node
/**
 * `npm run dev`: local D1 migrations, the Demo seed (idempotent), then `wrangler dev` on
 * 127.0.0.1:8787 with dev sign-in on and a local ADMIN_API_TOKEN (scripts/local-defaults.mjs). Extra arguments go to `wrangler dev`
 * (e.g. `npm run dev -- --port 8788 --persist-to /tmp/state`).
 */
import { spawn, spawnSync } from "node:child_process";
import { LOCAL_ADMIN_API_TOKEN } from "./local-defaults.mjs";
import { quietWranglerEnv } from "./wrangler-env.mjs";

const extra = process.argv.slice(2);
const persist = [];
const i = extra.indexOf("--persist-to");
if (i >= 0) persist.push("--persist-to", extra[i + 1]);

function wrangler(args) {
  const r = spawnSync("wrangler", args, { stdio: "inherit", env: quietWranglerEnv });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

wrangler(["d1", "migrations", "apply", "DB", "--local", ...persist]);
wrangler(["d1", "execute", "DB", "--local", "--file", "seed/demo.sql", ...persist]);

// A local operator token so `npm run admin` works out of the box (callers may pass their own).
const localVars = ["--var", "DEV_SIGNIN:true"];
if (!extra.some((a) => a.startsWith("ADMIN_API_TOKEN:")))
  localVars.push("--var", `ADMIN_API_TOKEN:${LOCAL_ADMIN_API_TOKEN}`);

const child = spawn("wrangler", ["dev", ...localVars, ...extra], {
  stdio: "inherit",
  env: quietWranglerEnv,
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
