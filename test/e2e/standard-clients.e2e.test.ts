/**
 * Standard clients end to end against `wrangler dev`, with oauth4webapi doing every protocol step:
 * discovery (RFC 8414) → registration (RFC 7591) → authorization with PKCE in Chromium (RFC 6749
 * §4.1, RFC 7636, RFC 9207 iss) → token (ID token per OIDC Core §3.1.3.7, access token per RFC 9068)
 * → userinfo (OIDC Core §5.3) → refresh (RFC 6749 §6) → introspection (RFC 7662) → revocation
 * (RFC 7009), for a public client, a client_secret_basic client and a client_secret_post client;
 * then a client-credentials app created with the operator CLI (`npm run admin`).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { screenshot, submitForm } from "./harness/browser";
import { startWorker } from "./harness/server";
import { discover, e2eSetup, insecure } from "./harness/setup";

// A private worker: this file registers several clients, and registration is rate-limited per IP.
const setup = e2eSetup(() => startWorker({ name: "standard-clients", vars: { REGISTRATION_LIMIT_PER_HOUR: "100" } }));
let as: oauth.AuthorizationServer;
let signedIn = false;

beforeAll(async () => {
  as = await discover(setup.worker);
});

type Method = "none" | "client_secret_basic" | "client_secret_post";

async function register(method: Method): Promise<{ client: oauth.Client; auth: oauth.ClientAuth }> {
  const res = await fetch(as.registration_endpoint!, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: `Standard ${method}`,
      redirect_uris: [setup.callback.redirectUri],
      token_endpoint_auth_method: method,
      grant_types: ["authorization_code", "refresh_token"],
      scope: "openid profile email offline_access ir.incidents:read",
    }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { client_id: string; client_secret?: string };
  const client: oauth.Client = { client_id: body.client_id, token_endpoint_auth_method: method };
  if (method === "none") {
    expect(body.client_secret).toBeUndefined();
    return { client, auth: oauth.None() };
  }
  expect(body.client_secret).toMatch(/^eoidc_cs_/);
  const auth =
    method === "client_secret_basic"
      ? oauth.ClientSecretBasic(body.client_secret!)
      : oauth.ClientSecretPost(body.client_secret!);
  return { client, auth };
}

/** The person's part: sign in once (dev sign-in), then approve consent for each new client. */
async function authorizeInBrowser(url: URL, screenshotName: string): Promise<URL> {
  const { page } = setup.browser;
  await page.goto(url.href);
  if (!signedIn) {
    expect(new URL(page.url()).pathname).toBe("/signin");
    await submitForm(page, { email: "admin@example.com" }, { form: 'form[action="/signin/dev"]' });
    signedIn = true;
  }
  await screenshot(page, screenshotName);
  await submitForm(page, {}, { submit: 'button[name="decision"][value="approve"]' });
  return setup.callback.next();
}

describe.each<Method>(["none", "client_secret_basic", "client_secret_post"])(
  "a %s client with oauth4webapi",
  (method) => {
    it("runs the whole lifecycle", async () => {
      const { client, auth } = await register(method);
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: client.client_id,
        redirect_uri: setup.callback.redirectUri,
        response_type: "code",
        scope: "openid profile email ir.incidents:read",
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        nonce,
      }).toString();

      const redirected = await authorizeInBrowser(url, `standard-${method}-consent`);
      // RFC 9207: oauth4webapi checks iss against the discovered issuer, and state.
      const params = oauth.validateAuthResponse(as, client, redirected, state);

      const tokenResponse = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        setup.callback.redirectUri,
        verifier,
        insecure,
      );
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, {
        expectedNonce: nonce,
        requireIdToken: true,
      });
      const idClaims = oauth.getValidatedIdTokenClaims(tokens)!;
      expect(idClaims.aud).toBe(client.client_id);
      expect(idClaims.email).toBe("admin@example.com");
      expect(tokens.refresh_token).toMatch(/^eoidc_rt_/);

      // RFC 9068 §4: oauth4webapi validates the JWT access token against our JWKS.
      const claims = await oauth.validateJwtAccessToken(
        as,
        new Request(`${setup.worker.baseUrl}/resource`, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        }),
        setup.worker.issuer,
        insecure,
      );
      expect(claims.client_id).toBe(client.client_id);
      expect(claims.scope).toBe("openid profile email ir.incidents:read");

      const userinfo = await oauth.processUserInfoResponse(
        as,
        client,
        idClaims.sub,
        await oauth.userInfoRequest(as, client, tokens.access_token, insecure),
      );
      expect(userinfo).toMatchObject({ sub: idClaims.sub, email: "admin@example.com", role: "admin" });

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
      );
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

      const introspect = async (token: string) =>
        oauth.processIntrospectionResponse(
          as,
          client,
          await oauth.introspectionRequest(as, client, auth, token, insecure),
        );
      expect(await introspect(refreshed.access_token)).toMatchObject({
        active: true,
        client_id: client.client_id,
        sub: idClaims.sub,
      });
      expect(await introspect(refreshed.refresh_token!)).toMatchObject({ active: true });
      // The rotated-away token is dead once the successor exists and the grace window applies only to retries.
      expect((await introspect(tokens.refresh_token!)).active).toBe(false);

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, auth, refreshed.refresh_token!, insecure),
      );
      expect((await introspect(refreshed.refresh_token!)).active).toBe(false);
      // Revoking the refresh token ends its family: the access tokens minted from it die too.
      expect((await introspect(refreshed.access_token)).active).toBe(false);
      const afterRevoke = await oauth.userInfoRequest(as, client, refreshed.access_token, insecure);
      expect(afterRevoke.status).toBe(401);
      expect(afterRevoke.headers.get("www-authenticate")).toContain("invalid_token");
    });
  },
);

describe("a client-credentials app created with the operator CLI", () => {
  it("gets a token with the app's scopes, which introspection describes and revocation ends", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      "npm",
      [
        "run",
        "--silent",
        "admin",
        "--",
        "create-app",
        "--name",
        "E2E bot",
        "--type",
        "client_credentials",
        "--scope",
        "ir.incidents:read oc.alerts:read",
        "--team",
        "team_demo",
        "--json",
        "--url",
        setup.worker.baseUrl,
      ],
      { env: { ...process.env, ADMIN_API_TOKEN: setup.worker.adminToken } },
    );
    const app = JSON.parse(stdout) as { client_id: string; client_secret: string };
    const client: oauth.Client = { client_id: app.client_id };
    const auth = oauth.ClientSecretBasic(app.client_secret);

    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), insecure),
    );
    expect(tokens.scope).toBe("ir.incidents:read oc.alerts:read");
    expect(tokens.refresh_token).toBeUndefined();
    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure),
    );
    expect(introspection).toMatchObject({ active: true, client_id: app.client_id, team_id: "team_demo" });
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure),
    );
    const after = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure),
    );
    expect(after.active).toBe(false);
  });
});

describe("the operator CLI follows the app-change policy (RFC 7592: a registered client is its registrant's)", () => {
  const admin = (...args: string[]) =>
    promisify(execFile)("npm", ["run", "--silent", "admin", "--", ...args, "--url", setup.worker.baseUrl], {
      env: { ...process.env, ADMIN_API_TOKEN: setup.worker.adminToken },
    });

  it("refuses to edit or reset the secret of a self-registered client, but revokes its tokens", async () => {
    const { client } = await register("client_secret_basic");
    for (const args of [
      ["update-app", client.client_id, "--redirect-uri", "https://attacker.example/cb"],
      ["reset-secret", client.client_id],
    ]) {
      const refused = await admin(...args).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(refused?.code, args[0]).toBe(1);
      expect(refused?.stderr).toContain("HTTP 403 access_denied");
    }
    const { stdout } = await admin("revoke-tokens", client.client_id, "--json");
    expect(JSON.parse(stdout)).toMatchObject({ client_id: client.client_id, origin: "registered" });
  });
});
