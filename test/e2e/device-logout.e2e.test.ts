/**
 * End to end against `wrangler dev`: openid-client's device authorization grant (RFC 8628 §3.1–3.5,
 * initiateDeviceAuthorization + pollDeviceAuthorizationGrant) while Chromium, as the person, signs
 * in at /device (dev sign-in through return_to), confirms the code and allows it on the consent
 * page; and OpenID Connect RP-Initiated Logout 1.0 (§2–§3) in Chromium, coming back to a
 * registered post_logout_redirect_uri with state. Screenshots of /device at 375 and 1280 px go to
 * test-results/screenshots/ (ignored by git).
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, openBrowser, screenshot, submitForm } from "./harness/browser";
import { type CallbackServer, startCallbackServer } from "./harness/callback";
import { pkcePair } from "./harness/pkce";
import { type E2eWorker, sharedWorker } from "./harness/server";

const DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";

let worker: E2eWorker;
let browser: BrowserSession;
let callback: CallbackServer;
let loggedOut: CallbackServer;

beforeAll(async () => {
  worker = sharedWorker();
  browser = await openBrowser();
  callback = await startCallbackServer();
  loggedOut = await startCallbackServer("/logged-out");
});

afterAll(async () => {
  await browser?.close();
  await callback?.close();
  await loggedOut?.close();
});

/** A public app of the Demo team, created through the admin JSON API (no registration quota spent). */
async function createApp(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${worker.baseUrl}/api/admin/apps`, {
    method: "POST",
    headers: { Authorization: `Bearer ${worker.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ team_id: "team_demo", type: "public", scope: "openid profile ir.incidents:read", ...body }),
  });
  const app = (await res.json()) as { client_id: string };
  expect(res.status, JSON.stringify(app)).toBe(201);
  return app.client_id;
}

const configFor = (clientId: string) =>
  client.discovery(new URL(worker.issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });

describe("device authorization grant with openid-client, approved in Chromium (RFC 8628)", () => {
  it("the device polls while the person signs in at /device, confirms the code and allows it", async () => {
    const clientId = await createApp({ name: "E2E terminal", grant_types: [DEVICE_CODE_GRANT_TYPE, "refresh_token"] });
    const config = await configFor(clientId);
    expect(config.serverMetadata().device_authorization_endpoint).toBe(`${worker.baseUrl}/oauth/device_authorization`);

    const started = await client.initiateDeviceAuthorization(config, { scope: "openid profile ir.incidents:read" });
    expect(started.user_code).toMatch(/^[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    expect(started.expires_in).toBe(600);
    expect(started.interval).toBe(5);
    // The device polls from now on (openid-client waits `interval` between polls, RFC 8628 §3.5).
    const polling = client.pollDeviceAuthorizationGrant(config, started);

    const { page } = browser;
    await page.goto(started.verification_uri_complete!);
    expect(new URL(page.url()).pathname).toBe("/signin");
    await submitForm(page, { email: "member@example.com" }, { form: 'form[action="/signin/dev"]' });
    // Back at /device through return_to, with the code filled in for the person to compare.
    expect(new URL(page.url()).pathname).toBe("/device");
    expect(await page.locator("#user-code").inputValue()).toBe(started.user_code);
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await screenshot(page, `device-code-${width}`);
    }
    await submitForm(page, {}, { form: 'form[action="/device"]' });
    const consent = (await page.locator("main").textContent()) ?? "";
    expect(consent).toContain("E2E terminal");
    expect(consent).toContain("A device asked for this");
    expect(consent).toContain(started.user_code);
    await screenshot(page, "device-consent-1280");
    await submitForm(page, {}, { submit: 'button[name="decision"][value="approve"]' });
    expect(await page.locator("h1").textContent()).toBe("Device connected");

    const tokens = await polling;
    expect(tokens.refresh_token).toMatch(/^eoidc_rt_/);
    expect(tokens.claims()?.aud).toBe(clientId);
    const jwks = createRemoteJWKSet(new URL(`${worker.baseUrl}/oauth/discovery/keys`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: worker.issuer, typ: "at+jwt" });
    expect(payload.client_id).toBe(clientId);
    expect(payload.sub).toBe(tokens.claims()?.sub);
    // The family lives like a code flow's: refresh rotates it.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  }, 90_000);
});

describe("RP-Initiated Logout 1.0 in Chromium", () => {
  it("signs out with id_token_hint and returns to the registered post_logout_redirect_uri with state", async () => {
    const clientId = await createApp({
      name: "E2E logout",
      redirect_uris: [callback.redirectUri],
      post_logout_redirect_uris: [loggedOut.redirectUri],
      automatic_consent: true,
    });
    const config = await configFor(clientId);
    expect(config.serverMetadata().end_session_endpoint).toBe(`${worker.baseUrl}/oauth/end_session`);
    const pkce = await pkcePair();
    const state = client.randomState();
    const { page } = browser;
    // Signed in from the device test (or now, if it ran alone).
    await page.goto(
      client.buildAuthorizationUrl(config, {
        redirect_uri: callback.redirectUri,
        scope: "openid",
        code_challenge: pkce.challenge,
        code_challenge_method: pkce.method,
        state,
      }).href,
    );
    if (new URL(page.url()).pathname === "/signin") {
      await submitForm(page, { email: "member@example.com" }, { form: 'form[action="/signin/dev"]' });
    }
    const tokens = await client.authorizationCodeGrant(config, await callback.next(), {
      pkceCodeVerifier: pkce.verifier,
      expectedState: state,
    });

    const logoutState = client.randomState();
    await page.goto(
      client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: loggedOut.redirectUri,
        state: logoutState,
      }).href,
    );
    const back = await loggedOut.next();
    expect(back.searchParams.get("state")).toBe(logoutState);
    // The browser session is gone: /device asks for sign-in again.
    await page.goto(`${worker.baseUrl}/device`);
    expect(new URL(page.url()).pathname).toBe("/signin");
  });

  it("without id_token_hint the person confirms on a page first, then returns with state", async () => {
    const clientId = await createApp({
      name: "E2E logout confirm",
      redirect_uris: [callback.redirectUri],
      post_logout_redirect_uris: [loggedOut.redirectUri],
    });
    const config = await configFor(clientId);
    const { page } = browser;
    await page.goto(`${worker.baseUrl}/signin`);
    await submitForm(page, { email: "member@example.com" }, { form: 'form[action="/signin/dev"]' });
    const logoutState = client.randomState();
    await page.goto(
      client.buildEndSessionUrl(config, { post_logout_redirect_uri: loggedOut.redirectUri, state: logoutState }).href,
    );
    expect(await page.locator("h1").textContent()).toBe("Sign out?");
    expect(await page.locator("main").textContent()).toContain("E2E logout confirm");
    await submitForm(page, {}, { submit: 'button[name="confirm"]' });
    expect((await loggedOut.next()).searchParams.get("state")).toBe(logoutState);
    await page.goto(`${worker.baseUrl}/device`);
    expect(new URL(page.url()).pathname).toBe("/signin");
  });
});
