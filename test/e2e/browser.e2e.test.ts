/**
 * Chromium against `wrangler dev`: the metadata document as a browser loads it, and a cross-origin
 * fetch from a browser app, which only works if the CORS headers are right (Fetch standard, CORS).
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, openBrowser, screenshot, submitForm } from "./harness/browser";
import { sharedWorker } from "./harness/server";

const worker = sharedWorker();
let browser: BrowserSession;

beforeAll(async () => {
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
});

// A stand-in single-page app on another origin (another loopback port). It is served for real, not
// by interception: Chromium treats an intercepted document as public and would refuse any request to
// loopback (Local Network Access) before CORS is even consulted.
let app: Server;
let appOrigin: string;

beforeAll(async () => {
  app = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>app</title>");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});
afterAll(async () => {
  app.closeAllConnections(); // Chromium keeps idle keep-alive sockets; close() alone would wait for them
  await new Promise<void>((resolve) => app.close(() => resolve()));
});

async function openWebApp(): Promise<void> {
  await browser.page.goto(`${appOrigin}/app`);
}

describe("Chromium", () => {
  it("loads the OpenID configuration as JSON with the configured issuer", async () => {
    const { page } = browser;
    const response = await page.goto(`${worker.baseUrl}/.well-known/openid-configuration`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-type"]).toContain("application/json");
    // Chromium shows a JSON response as text in a <pre> (with its own pretty-print toggle around it).
    const document = JSON.parse((await page.locator("pre").first().textContent()) ?? "") as Record<string, unknown>;
    expect(document.issuer).toBe(worker.issuer);
    expect(document.authorization_endpoint).toBe(`${worker.baseUrl}/oauth/authorize`);
    const file = await screenshot(page, "openid-configuration");
    expect(existsSync(file)).toBe(true);
  });

  it("lets a web app on another origin read metadata and JWKS (CORS), as a browser enforces it", async () => {
    const { page } = browser;
    await openWebApp();
    // This function runs in the page (the app's origin), so Chromium applies CORS to both reads.
    const seen = await page.evaluate(async (base) => {
      const md = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, string>;
      const jwks = (await (await fetch(md.jwks_uri as string)).json()) as { keys: unknown[] };
      return { issuer: md.issuer, keys: jwks.keys.length };
    }, worker.baseUrl);
    expect(new URL(page.url()).origin).toBe(appOrigin);
    expect(seen.issuer).toBe(worker.issuer);
    expect(seen.keys).toBeGreaterThanOrEqual(2);
  });

  it("blocks the same read of /oauth/authorize, which never answers CORS (so the check above is not vacuous)", async () => {
    const { page } = browser;
    await openWebApp();
    const outcome = await page.evaluate(async (base) => {
      try {
        await fetch(`${base}/oauth/authorize`);
        return "readable";
      } catch {
        return "blocked";
      }
    }, worker.baseUrl);
    expect(outcome).toBe("blocked");
  });

  it("signs the seeded admin in through the dev sign-in form of /signin (submitForm)", async () => {
    const { page } = browser;
    const signin = await page.goto(`${worker.baseUrl}/signin`);
    expect(signin?.status()).toBe(200);
    // Pages never answer CORS and forbid framing (README "Endpoints").
    expect(signin?.headers()["access-control-allow-origin"]).toBeUndefined();
    expect(signin?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    await screenshot(page, "signin");
    const home = await submitForm(page, { email: "admin@example.com" }, { form: 'form[action="/signin/dev"]' });
    expect(home?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe("/");
    const text = (await page.locator("main, body").first().textContent()) ?? "";
    expect(text).toContain("admin@example.com");
    expect(text).toContain("Demo");
    await screenshot(page, "home-after-dev-signin");
  });
});
