/**
 * Headless Chromium for flows a user drives: Debian's /usr/bin/chromium through playwright-core
 * (`npx playwright install` cannot download browsers here). Every browser gets a fresh profile, so no
 * cookie or cache leaks between tests.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page, type Response } from "playwright-core";
import { RESULTS_DIR } from "./server";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = join(RESULTS_DIR, "screenshots");

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface BrowserSession {
  context: BrowserContext;
  /** The first tab (a persistent context opens with one). */
  page: Page;
  /** Close Chromium and delete its profile. */
  close(): Promise<void>;
}

/** Launch Chromium with a fresh --user-data-dir. Call `close()` in afterEach/afterAll. */
export async function openBrowser(): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get update && apt-get install -y chromium`);
  }
  const profile = await mkdtemp(join(tmpdir(), "edge-oidc-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Save a full-page screenshot as test-results/screenshots/<name>.png and return its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface SubmitFormOptions {
  /** CSS selector of the form (default: the first form on the page). */
  form?: string;
  /** CSS selector of the button to press, inside the form (default: its first submit button). */
  submit?: string;
}

/**
 * Fill a form by field name and submit it like a user: text fields get the string, checkboxes and
 * radios are set to the boolean (a radio by `name=value` key, e.g. "choice=yes": true). Resolves with
 * the response of the navigation the submission caused (null if it was intercepted, see
 * `catchRedirect`).
 */
export async function submitForm(
  page: Page,
  fields: Record<string, string | boolean>,
  options: SubmitFormOptions = {},
): Promise<Response | null> {
  const form = page.locator(options.form ?? "form").first();
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === "boolean") {
      const [name, radioValue] = key.split("=", 2);
      const selector = radioValue === undefined ? `[name="${name}"]` : `[name="${name}"][value="${radioValue}"]`;
      await form.locator(selector).setChecked(value);
    } else {
      await form.locator(`[name="${key}"]`).fill(value);
    }
  }
  const button = form.locator(options.submit ?? 'button[type="submit"], input[type="submit"], button:not([type])');
  const [response] = await Promise.all([page.waitForNavigation(), button.first().click()]);
  return response;
}

export interface CallbackCatcher {
  /** The full URL the browser was sent to, e.g. to read `code`, `state` and `iss` (RFC 9207). */
  url: Promise<URL>;
}

/**
 * Intercept the browser's requests to `redirectUri` (the client's callback, which nothing serves in
 * tests): the browser gets a small "callback received" page and `url` resolves with the first one.
 * Await this before the action that redirects:
 *   const callback = await catchRedirect(page, redirectUri);
 *   await submitForm(page, { ... });
 *   const code = (await callback.url).searchParams.get("code");
 */
export async function catchRedirect(page: Page, redirectUri: string): Promise<CallbackCatcher> {
  const target = redirectUri.split(/[?#]/, 1)[0];
  let resolveUrl: (url: URL) => void = () => {};
  const url = new Promise<URL>((resolve) => {
    resolveUrl = resolve;
  });
  await page.route(
    (candidate) => candidate.href.split(/[?#]/, 1)[0] === target,
    async (route) => {
      resolveUrl(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: "text/html", body: "<p>callback received</p>" });
    },
  );
  return { url };
}
