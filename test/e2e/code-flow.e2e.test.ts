/**
 * One complete authorization code flow the way a real app does it, proving the harness end to end:
 * dynamic registration (RFC 7591), openid-client building the request with PKCE (RFC 7636), a user in
 * Chromium signing in and consenting, the redirect received by a loopback callback server, and openid-client
 * redeeming the code (checking state, iss per RFC 9207 and the ID token) and calling UserInfo.
 * A template for flow tests: copy it, change the scenario.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCli } from "./harness/admin-cli";
import { type BrowserSession, openBrowser, screenshot, submitForm } from "./harness/browser";
import { type CallbackServer, startCallbackServer } from "./harness/callback";
import { pkcePair } from "./harness/pkce";
import { sharedWorker } from "./harness/server";

const worker = sharedWorker();
let browser: BrowserSession;
let callback: CallbackServer;
beforeAll(async () => {
  browser = await openBrowser();
  callback = await startCallbackServer();
});
afterAll(async () => {
  await browser?.close();
  await callback?.close();
});

async function registerPublicClient(): Promise<string> {
  const res = await fetch(`${worker.baseUrl}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "E2E code flow",
      redirect_uris: [callback.redirectUri],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

/** Runs one authorization in Chromium (signing in if needed, approving the consent page); returns the tokens. */
async function authorizeAndRedeem(
  config: client.Configuration,
  parameters: Record<string, string>,
): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const pkce = await pkcePair();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callback.redirectUri,
    code_challenge: pkce.challenge,
    code_challenge_method: pkce.method,
    state,
    ...parameters,
  });
  const { page } = browser;
  await page.goto(url.href);
  if (new URL(page.url()).pathname === "/signin") {
    await submitForm(page, { email: "member@example.com" }, { form: 'form[action="/signin/dev"]' });
  }
  // A person who already allowed these scopes is not asked again (straight back to the app).
  if (await page.locator('button[name="decision"][value="approve"]').count()) {
    await submitForm(page, {}, { submit: 'button[name="decision"][value="approve"]' });
  }
  return client.authorizationCodeGrant(config, await callback.next(), {
    pkceCodeVerifier: pkce.verifier,
    expectedState: state,
  });
}

describe("authorization code flow with PKCE, in Chromium, redeemed by openid-client", () => {
  it("signs in, consents, gets a code with iss (RFC 9207), tokens and UserInfo", async () => {
    const clientId = await registerPublicClient();
    const config = await client.discovery(new URL(worker.issuer), clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const pkce = await pkcePair();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: callback.redirectUri,
      scope: "openid profile email",
      code_challenge: pkce.challenge,
      code_challenge_method: pkce.method,
      state,
      nonce,
    });

    const { page } = browser;
    await page.goto(authorizationUrl.href);
    expect(new URL(page.url()).pathname).toBe("/signin");
    await submitForm(page, { email: "member@example.com" }, { form: 'form[action="/signin/dev"]' });
    await screenshot(page, "code-flow-consent");
    expect(await page.locator("body").textContent()).toContain("E2E code flow");
    await submitForm(page, {}, { submit: 'button[name="decision"][value="approve"]' });
    const redirected = await callback.next();
    expect(redirected.searchParams.get("iss")).toBe(worker.issuer);
    expect(redirected.searchParams.get("state")).toBe(state);

    // Checks state, iss, the code exchange with the verifier, and the ID token (aud, nonce, exp).
    const tokens = await client.authorizationCodeGrant(config, redirected, {
      pkceCodeVerifier: pkce.verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    expect(idClaims?.iss).toBe(worker.issuer);
    expect(idClaims?.aud).toBe(clientId);

    // RFC 9068: the access token is a JWT with typ at+jwt, signed by a key from our JWKS.
    const jwks = createRemoteJWKSet(new URL(`${worker.baseUrl}/oauth/discovery/keys`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: worker.issuer, typ: "at+jwt" });
    expect(payload.client_id).toBe(clientId);
    expect(payload.sub).toBe(idClaims?.sub);

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims?.sub as string);
    expect(userinfo.email).toBe("member@example.com");
  });
});

describe("UserInfo takes only tokens for this server (RFC 9068 §4, RFC 8707, OIDC Core §5.3)", () => {
  const resource = "https://mcp.example.com/mcp";

  it("refuses a token issued for another resource; openid with the resource is also for the issuer", async () => {
    const clientId = await registerPublicClient();
    const config = await client.discovery(new URL(worker.issuer), clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });

    const forResource = await authorizeAndRedeem(config, { scope: "ir.incidents:read", resource });
    expect(decodeJwt(forResource.access_token).aud).toBe(resource);
    const refused = await fetch(`${worker.baseUrl}/oauth/userinfo`, {
      headers: { Authorization: `Bearer ${forResource.access_token}` },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toContain('error="insufficient_scope"');

    const withOpenid = await authorizeAndRedeem(config, { scope: "openid email ir.incidents:read", resource });
    expect(decodeJwt(withOpenid.access_token).aud).toEqual([resource, worker.issuer]);
    const sub = decodeJwt(withOpenid.access_token).sub as string;
    const userinfo = await client.fetchUserInfo(config, withOpenid.access_token, sub);
    expect(userinfo.email).toBe("member@example.com");
  });
});

describe("an app created with `npm run admin -- create-app --id-token-alg ES256` (OIDC Dynamic Client Registration §2)", () => {
  function admin(...args: string[]): string {
    const run = adminCli(worker, ...args);
    expect(run.status, run.stderr).toBe(0);
    return run.stdout;
  }

  it("gets ES256 ID tokens that openid-client, told to expect ES256, verifies; update-app sets RS256 back", async () => {
    const created = JSON.parse(
      admin(
        "create-app",
        "--name",
        "E2E ES256 app",
        "--type",
        "confidential",
        "--team",
        "team_demo",
        "--redirect-uri",
        callback.redirectUri,
        "--scope",
        "openid profile email",
        "--id-token-alg",
        "ES256",
        "--json",
      ),
    ) as { client_id: string; client_secret: string; id_token_signed_response_alg: string };
    expect(created.id_token_signed_response_alg).toBe("ES256");
    const configFor = (alg: string) =>
      client.discovery(
        new URL(worker.issuer),
        created.client_id,
        { id_token_signed_response_alg: alg },
        client.ClientSecretBasic(created.client_secret),
        { execute: [client.allowInsecureRequests] },
      );
    // openid-client refuses an ID token signed with another alg than the client's metadata names.
    const es = await authorizeAndRedeem(await configFor("ES256"), { scope: "openid email" });
    expect(decodeProtectedHeader(es.id_token!).alg).toBe("ES256");
    expect(es.claims()?.aud).toBe(created.client_id);

    expect(admin("update-app", created.client_id, "--id-token-alg", "RS256")).toMatch(/^id_token_alg\s+RS256$/m);
    const rs = await authorizeAndRedeem(await configFor("RS256"), { scope: "openid email" });
    expect(decodeProtectedHeader(rs.id_token!).alg).toBe("RS256");
  });
});
