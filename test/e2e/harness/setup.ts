/**
 * The setup most e2e files share: a worker (a private one, started by `start`), headless Chromium
 * and a loopback callback server, started before the file's tests and stopped after them. The
 * returned object's fields are valid inside tests and later hooks.
 */
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll } from "vitest";
import { type BrowserSession, openBrowser } from "./browser";
import { type CallbackServer, startCallbackServer } from "./callback";
import { type E2eWorker, stopWorker } from "./server";

export interface E2eSetup {
  readonly worker: E2eWorker;
  readonly browser: BrowserSession;
  readonly callback: CallbackServer;
}

export function e2eSetup(start: () => Promise<E2eWorker>): E2eSetup {
  const state: { worker?: E2eWorker; browser?: BrowserSession; callback?: CallbackServer } = {};
  beforeAll(async () => {
    state.worker = await start();
    state.browser = await openBrowser();
    state.callback = await startCallbackServer();
  }, 180_000);
  afterAll(async () => {
    await state.browser?.close();
    await state.callback?.close();
    if (state.worker) await stopWorker(state.worker);
  });
  const ready = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the e2e ${name} is not started (use it inside tests or later hooks)`);
    return value;
  };
  return {
    get worker() {
      return ready(state.worker, "worker");
    },
    get browser() {
      return ready(state.browser, "browser");
    },
    get callback() {
      return ready(state.callback, "callback server");
    },
  };
}

/** oauth4webapi's option that allows http on the loopback issuer of the tests. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** The worker's OpenID discovery document, through oauth4webapi (RFC 8414, OIDC Discovery). */
export async function discover(worker: E2eWorker): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(worker.issuer);
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }),
  );
}
