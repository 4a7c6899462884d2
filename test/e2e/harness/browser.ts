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
import { expect } from "vitest";
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
  /** CSS selector of the form (default: the form holding `submit`, else the first field, else the first form). */
  form?: string;
  /** CSS selector of the button to press, inside the form (default: its first submit button). */
  submit?: string;
}

const SUBMIT_BUTTONS = 'button[type="submit"], input[type="submit"], button:not([type])';

function formSelector(fields: Record<string, string | boolean>, submit: string | undefined): string {
  if (submit) return `form:has(${submit})`;
  const first = Object.keys(fields)[0]?.split("=", 1)[0];
  return first ? `form:has([name="${first}"])` : "form";
}

/**
 * Fill a form by field name and submit it like a user: text fields get the string, a select the
 * option of that value, checkboxes and radios are set to the boolean (a radio by `name=value` key,
 * e.g. "choice=yes": true). Resolves with
 * the response of the navigation the submission caused (for a redirect to a client, the response of
 * the client's callback: see callback.ts).
 */
export async function submitForm(
  page: Page,
  fields: Record<string, string | boolean>,
  options: SubmitFormOptions = {},
): Promise<Response | null> {
  const form = page.locator(options.form ?? formSelector(fields, options.submit)).first();
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === "boolean") {
      const [name, radioValue] = key.split("=", 2);
      const selector = radioValue === undefined ? `[name="${name}"]` : `[name="${name}"][value="${radioValue}"]`;
      await form.locator(selector).setChecked(value);
    } else {
      // A select is chosen, as a person would, not typed into.
      const select = form.locator(`select[name="${key}"]`);
      if ((await select.count()) > 0) await select.selectOption(value);
      else await form.locator(`[name="${key}"]`).fill(value);
    }
  }
  const button = form.locator(options.submit ?? SUBMIT_BUTTONS);
  const [response] = await Promise.all([page.waitForNavigation(), button.first().click()]);
  return response;
}

/**
 * The page at a phone's and a desktop's width (375 px, 1280 px): it must not scroll sideways, and
 * each is photographed as test-results/screenshots/<name>-<width>.png.
 */
export async function captureAtWidths(page: Page, name: string): Promise<void> {
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    // Strings run in the page (this file is type-checked without the DOM library).
    const { scroll, inner } = await page.evaluate<{ scroll: number; inner: number }>(
      "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })",
    );
    expect(scroll, `${name} overflows at ${width}px`).toBeLessThanOrEqual(inner);
    await screenshot(page, `${name}-${width}`);
  }
}
