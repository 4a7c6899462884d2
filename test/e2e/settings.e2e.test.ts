/**
 * The settings pages in headless Chromium against `wrangler dev` (README "Administration"):
 * an admin creates apps, copies and downloads a secret, uses it at /oauth/token, resets it, revokes
 * every token, deletes an app; a member revokes an app they allowed on the consent page; a
 * non-admin is refused. Every page is photographed at 375 px and 1280 px and must not scroll sideways.
 */
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, captureAtWidths, openBrowser, submitForm } from "./harness/browser";
import { type CallbackServer, startCallbackServer } from "./harness/callback";
import { pkcePair } from "./harness/pkce";
import { sharedWorker } from "./harness/server";

const worker = sharedWorker();
const base = worker.baseUrl;
/** The confidential app the admin creates and the member then allows (a loopback redirect URI). */
const app = { id: "", secret: "", redirectUri: "" };
let adminBrowser: BrowserSession;
let memberBrowser: BrowserSession;
let callback: CallbackServer;

beforeAll(async () => {
  adminBrowser = await openBrowser();
  memberBrowser = await openBrowser();
  callback = await startCallbackServer();
  app.redirectUri = callback.redirectUri;
});
afterAll(async () => {
  await adminBrowser?.close();
  await memberBrowser?.close();
  await callback?.close();
});

/** Both widths: no horizontal overflow, and a screenshot of each (test-results/screenshots/). */
const capture = (page: Page, name: string) => captureAtWidths(page, `settings-${name}`);

/** Click something that navigates, and wait for the new page. */
async function follow(page: Page, selector: string) {
  const [response] = await Promise.all([page.waitForNavigation(), page.locator(selector).first().click()]);
  return response;
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

async function post(path: string, params: Record<string, string>, authorization?: string) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...(authorization ? { Authorization: authorization } : {}),
    },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** RFC 6749 §4.4 with HTTP Basic client authentication (§2.3.1). */
const clientCredentials = (id: string, secret: string) =>
  post("/oauth/token", { grant_type: "client_credentials" }, basic(id, secret));
/** RFC 7662 §2.1: the app asks about its own token. */
const introspect = (id: string, secret: string, token: string) =>
  post("/oauth/introspect", { token }, basic(id, secret));

async function signIn(page: Page, email: string, returnTo: string) {
  // Signed out, a settings page sends the browser to sign-in and, after it, back to the page.
  await page.goto(`${base}${returnTo}`);
  expect(new URL(page.url()).pathname).toBe("/signin");
  await submitForm(page, { email }, { form: 'form[action="/signin/dev"]' });
  expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(returnTo);
}

/** From the app list, through both steps of "create", to the credentials page. */
async function createApp(page: Page, type: string, fields: Record<string, string | boolean>) {
  await page.goto(`${base}/settings/oauth-applications`);
  await follow(page, "text=Create an app");
  await capture(page, "new-choose-kind");
  await submitForm(page, { [`type=${type}`]: true }, { form: 'form[method="get"]' });
  await capture(page, `new-${type}`);
  // Every field one types into or picks from spans the form, the JWK Set URL's included.
  const widths = await page.evaluate<number[]>(
    "[...document.querySelectorAll('main form input[type=text], main form input[type=url], main form textarea, main form select')].map((e) => Math.round(e.getBoundingClientRect().width))",
  );
  expect(widths.length).toBeGreaterThan(1);
  expect(new Set(widths).size, `field widths ${widths}`).toBe(1);
  // The scope picker keeps each area's rows in a <details>: open them, as a person would.
  for (const summary of await page.locator("form details > summary").all()) await summary.click();
  await submitForm(page, fields, { form: 'form[action="/settings/oauth-applications"]' });
  const clientId = await page.inputValue("#client-id");
  const secret = await page.inputValue("#client-secret");
  return { clientId, secret };
}

describe("an admin manages the team's apps", () => {
  it("creates a confidential app; copies the secret with the button and downloads it as JSON", async () => {
    const { page, context } = adminBrowser;
    await signIn(page, "admin@example.com", "/settings/oauth-applications");
    await capture(page, "app-list-empty");
    const created = await createApp(page, "confidential", {
      name: "Acme Dashboard",
      redirect_uris: app.redirectUri,
      "scope=openid": true,
      "scope=profile": true,
      "scope=ir.incidents:read": true,
    });
    expect(created.secret.length).toBeGreaterThanOrEqual(32);
    Object.assign(app, { id: created.clientId, secret: created.secret });
    await capture(page, "credentials");

    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.click('button[data-copy="client-secret"]');
    await page.waitForFunction('document.getElementById("client-secret-status").textContent !== ""');
    expect(await page.locator("#client-secret-status").textContent()).toBe("Copied.");
    expect(await page.evaluate<string>("navigator.clipboard.readText()")).toBe(created.secret);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[download]")]);
    const file = JSON.parse(readFileSync(await download.path(), "utf8")) as Record<string, unknown>;
    expect(file).toMatchObject({ client_id: app.id, client_secret: app.secret, token_endpoint: `${base}/oauth/token` });

    // Shown once: the app's page and the list do not have it.
    await follow(page, "text=I have saved the secret");
    expect(await page.content()).not.toContain(app.secret);
    await capture(page, "app");
  });

  it("creates a service app placed in a chosen region, gets a token with its secret, resets the secret, revokes every token, deletes it", async () => {
    const { page } = adminBrowser;
    const service = await createApp(page, "client_credentials", {
      name: "Nightly export",
      "scope=ir.incidents:read": true,
      "scope=oc.alerts:read": true,
      location_hint: "weur",
    });
    const first = await clientCredentials(service.clientId, service.secret);
    expect(first.status).toBe(200);
    expect(first.body.scope).toBe("ir.incidents:read oc.alerts:read");

    // Reset (after a confirmation): the old secret is refused at once, the new one works.
    await follow(page, "text=I have saved the secret");
    // Its token checks run where the admin chose (a Durable Object location hint), said on its page.
    expect(await page.locator("dl.facts").textContent()).toContain("In Western Europe");
    await follow(page, "text=Reset the secret");
    await capture(page, "confirm-reset-secret");
    await follow(page, 'form button[type="submit"]');
    const fresh = await page.inputValue("#client-secret");
    expect(fresh).not.toBe(service.secret);
    const old = await clientCredentials(service.clientId, service.secret);
    expect({ status: old.status, error: old.body.error }).toEqual({ status: 401, error: "invalid_client" });
    const token = await clientCredentials(service.clientId, fresh);
    expect(token.status).toBe(200);
    const accessToken = String(token.body.access_token);
    expect((await introspect(service.clientId, fresh, accessToken)).body.active).toBe(true);

    // Revoke every token: the token obtained before is inactive at once.
    await follow(page, "text=I have saved the secret");
    await follow(page, "text=Revoke every token");
    await capture(page, "confirm-revoke-tokens");
    await follow(page, 'form button[type="submit"]');
    expect(await page.locator("[role=status]").textContent()).toContain("revoked");
    expect((await introspect(service.clientId, fresh, accessToken)).body.active).toBe(false);

    // Delete (after a confirmation): the client is unknown at /oauth/token.
    await follow(page, "text=Delete the app");
    await capture(page, "confirm-delete");
    await follow(page, 'form button[type="submit"]');
    expect(new URL(page.url()).pathname).toBe("/settings/oauth-applications");
    expect(await page.locator("main").textContent()).not.toContain("Nightly export");
    const gone = await clientCredentials(service.clientId, fresh);
    expect({ status: gone.status, error: gone.body.error }).toEqual({ status: 401, error: "invalid_client" });
    await capture(page, "app-list");
  });
});

describe("a member sees and revokes what they allowed", () => {
  let accessToken = "";

  it("allows the app on the consent page; it appears under connected apps", async () => {
    const { page } = memberBrowser;
    await signIn(page, "member@example.com", "/settings/connected-apps");
    const { verifier, challenge } = await pkcePair();
    const query = new URLSearchParams({
      response_type: "code",
      client_id: app.id,
      redirect_uri: app.redirectUri,
      scope: "openid profile ir.incidents:read",
      state: "e2e-state",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    await page.goto(`${base}/oauth/authorize?${query}`);
    expect(await page.locator("h1").textContent()).toContain("Acme Dashboard");
    await capture(page, "consent");
    await page.click('button[value="approve"]');
    const code = (await callback.next()).searchParams.get("code")!;
    const tokens = await post(
      "/oauth/token",
      { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: app.redirectUri },
      basic(app.id, app.secret),
    );
    expect(tokens.status).toBe(200);
    accessToken = String(tokens.body.access_token);
    const info = await fetch(`${base}/oauth/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(info.status).toBe(200);

    await page.goto(`${base}/settings/connected-apps`);
    // Other e2e files share this worker and member@example.com: find this app's card among theirs.
    await expect.poll(() => page.locator("li.card", { hasText: "Acme Dashboard" }).count()).toBe(1);
    await capture(page, "connected-apps");
  });

  it("revokes it: the access token is refused at /oauth/userinfo at once", async () => {
    const { page } = memberBrowser;
    await follow(page, 'li.card:has-text("Acme Dashboard") button[type="submit"]');
    expect(await page.locator("[role=status]").textContent()).toContain("revoked");
    expect(await page.locator("main").textContent()).not.toContain("Acme Dashboard");
    await capture(page, "connected-apps-revoked");
    const info = await fetch(`${base}/oauth/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(info.status).toBe(401);
  });

  it("is refused the admin pages with a 403 page", async () => {
    const { page } = memberBrowser;
    for (const path of ["/settings/oauth-applications", "/settings/audit"]) {
      const response = await page.goto(`${base}${path}`);
      expect(response?.status()).toBe(403);
      expect(await page.locator("h1").textContent()).toContain("Only team admins");
    }
    await capture(page, "forbidden");
  });
});

describe("the admin reads the audit log", () => {
  it("shows the events, filterable by kind", async () => {
    const { page } = adminBrowser;
    await page.goto(`${base}/settings/audit`);
    const text = (await page.locator("ol.events").textContent()) ?? "";
    for (const kind of ["client.created", "client.secret_reset", "client.tokens_revoked", "client.deleted"]) {
      expect(text).toContain(kind);
    }
    await capture(page, "audit");
    await page.selectOption("select#kind", "consent.revoked");
    await follow(page, 'form.filter button[type="submit"]');
    expect(new URL(page.url()).searchParams.get("kind")).toBe("consent.revoked");
    expect(await page.locator("ol.events").textContent()).toContain("member@example.com");
    await capture(page, "audit-filtered");
  });
});
