/**
 * Standard clients end to end against `wrangler dev`, with oauth4webapi doing every protocol step:
 * discovery (RFC 8414) → registration (RFC 7591) → authorization with PKCE in Chromium (RFC 6749
 * §4.1, RFC 7636, RFC 9207 iss) → token (ID token per OIDC Core §3.1.3.7, access token per RFC 9068)
 * → userinfo (OIDC Core §5.3) → refresh (RFC 6749 §6) → introspection (RFC 7662) → revocation
 * (RFC 7009), for a public client, a client_secret_basic client and a client_secret_post client;
 * then a client-credentials app created with the operator CLI (`npm run admin`). Then DPoP
 * (RFC 9449) and private_key_jwt (RFC 7523) with the clients' own support: oauth4webapi's DPoP() and
 * PrivateKeyJwt(), openid-client's DPoP handle — the nonce dance (RFC 9449 §8: the first proof has no
 * nonce, the server answers use_dpop_nonce, the client retries), bound tokens at UserInfo (§7),
 * refresh with a bound refresh token (§5), introspection's cnf (§6.2), and assertions at token,
 * introspection and revocation (RFC 7523 §2.2).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as oauth from "oauth4webapi";
import * as openid from "openid-client";
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

async function register(
  method: Method,
  extra: Record<string, unknown> = {},
): Promise<{ client: oauth.Client; auth: oauth.ClientAuth }> {
  const res = await fetch(as.registration_endpoint!, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: `Standard ${method}`,
      redirect_uris: [setup.callback.redirectUri],
      token_endpoint_auth_method: method,
      grant_types: ["authorization_code", "refresh_token"],
      scope: "openid profile email offline_access ir.incidents:read",
      ...extra,
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
  it("gets a token with the app's scopes, which introspection describes and revocation ends; placed where asked", async () => {
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
        "--location-hint",
        "weur",
        "--json",
        "--url",
        setup.worker.baseUrl,
      ],
      { env: { ...process.env, ADMIN_API_TOKEN: setup.worker.adminToken } },
    );
    const app = JSON.parse(stdout) as { client_id: string; client_secret: string; location_hint: string };
    // Its 16 objects were first called with this hint (test/client-credentials.test.ts shows the calls).
    expect(app.location_hint).toBe("weur");
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

    // The placement and the kind are fixed at creation: the CLI passes a change on, the server says why not.
    for (const [option, value, field] of [
      ["--location-hint", "apac", "location_hint"],
      ["--type", "public", "type"],
    ]) {
      const refused = await run(
        "npm",
        ["run", "--silent", "admin", "--", "update-app", app.client_id, option!, value!, "--url", setup.worker.baseUrl],
        { env: { ...process.env, ADMIN_API_TOKEN: setup.worker.adminToken } },
      ).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(refused?.code).toBe(1);
      expect(refused?.stderr).toContain(`${field} is fixed when the app is created`);
      expect(refused?.stderr).not.toMatch(/^\s+at /m);
    }
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

async function authorizationUrl(clientId: string, verifier: string, state: string): Promise<URL> {
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: setup.callback.redirectUri,
    response_type: "code",
    scope: "openid email ir.incidents:read",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
  }).toString();
  return url;
}

/** oauth4webapi leaves the nonce retry to the caller: one retry on use_dpop_nonce (RFC 9449 §8). */
async function withNonceRetry<T>(attempt: () => Promise<T>, dance: { happened: boolean }): Promise<T> {
  try {
    return await attempt();
  } catch (e) {
    if (!oauth.isDPoPNonceError(e)) throw e;
    dance.happened = true;
    return attempt();
  }
}

describe("oauth4webapi DPoP() with a public client that registered dpop_bound_access_tokens", () => {
  it("does the nonce dance, gets bound tokens, uses them at UserInfo, refreshes with the bound refresh token", async () => {
    const client = (await register("none", { dpop_bound_access_tokens: true })).client;
    const keyPair = await oauth.generateKeyPair("ES256");
    const DPoP = oauth.DPoP(client, keyPair);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const params = oauth.validateAuthResponse(
      as,
      client,
      await authorizeInBrowser(await authorizationUrl(client.client_id, verifier, state), "dpop-oauth4webapi-consent"),
      state,
    );

    const dance = { happened: false };
    const tokens = await withNonceRetry(
      async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await oauth.authorizationCodeGrantRequest(
            as,
            client,
            oauth.None(),
            params,
            setup.callback.redirectUri,
            verifier,
            {
              DPoP,
              ...insecure,
            },
          ),
        ),
      dance,
    );
    expect(dance.happened).toBe(true); // the first proof carried no nonce: use_dpop_nonce, then the retry
    expect(tokens.token_type).toBe("dpop");
    const jkt = await DPoP.calculateThumbprint();

    // RFC 9449 §7: UserInfo with the DPoP scheme and a proof carrying ath (the nonce is already known).
    const sub = oauth.getValidatedIdTokenClaims(tokens)!.sub;
    const userinfo = await oauth.processUserInfoResponse(
      as,
      client,
      sub,
      await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }),
    );
    expect(userinfo).toMatchObject({ sub, email: "admin@example.com" });

    // §7.1: the same token as a bearer token is refused with a DPoP challenge.
    const asBearer = await fetch(as.userinfo_endpoint!, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get("www-authenticate")).toMatch(/^DPoP algs="/);

    // §5: the refresh token is bound: without a proof it is refused, with one it rotates.
    const unbound = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure);
    expect(unbound.status).toBe(400);
    expect(((await unbound.json()) as { error: string }).error).toBe("invalid_dpop_proof");
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP, ...insecure }),
    );
    expect(refreshed.token_type).toBe("dpop");
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    // §6.2: introspection reports the key the token is bound to.
    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, oauth.None(), refreshed.access_token, insecure),
    );
    expect(introspection).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt } });
  });
});

describe("openid-client DPoP", () => {
  it("binds tokens with its own nonce handling, reads UserInfo and refreshes", async () => {
    const registered = (await register("none")).client;
    const config = await openid.discovery(
      new URL(setup.worker.issuer),
      registered.client_id,
      undefined,
      openid.None(),
      {
        execute: [openid.allowInsecureRequests],
      },
    );
    const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair("EdDSA"));
    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const redirected = await authorizeInBrowser(
      await authorizationUrl(registered.client_id, verifier, state),
      "dpop-openid-client-consent",
    );
    const tokens = await openid.authorizationCodeGrant(
      config,
      redirected,
      { pkceCodeVerifier: verifier, expectedState: state },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type).toBe("dpop");
    const sub = tokens.claims()!.sub;
    expect(await openid.fetchUserInfo(config, tokens.access_token, sub, { DPoP })).toMatchObject({ sub });
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe("dpop");
  });
});

describe("oauth4webapi PrivateKeyJwt() with an admin-created app", () => {
  it("authenticates at token (with DPoP too), introspection and revocation", async () => {
    const keyPair = await oauth.generateKeyPair("ES256", { extractable: true });
    const publicJwk = { ...(await crypto.subtle.exportKey("jwk", keyPair.publicKey)), kid: "e2e-1", use: "sig" };
    delete (publicJwk as { key_ops?: unknown }).key_ops;
    delete (publicJwk as { ext?: unknown }).ext;
    const res = await fetch(`${setup.worker.baseUrl}/api/admin/apps`, {
      method: "POST",
      headers: { authorization: `Bearer ${setup.worker.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        team_id: "team_demo",
        name: "E2E key bot",
        type: "client_credentials",
        scope: "ir.incidents:read",
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [publicJwk] },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const app = (await res.json()) as { client_id: string; client_secret?: string };
    expect(app.client_secret).toBeUndefined();
    const client: oauth.Client = { client_id: app.client_id };
    const auth = oauth.PrivateKeyJwt({ key: keyPair.privateKey, kid: "e2e-1" });

    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), insecure),
    );
    expect(tokens.token_type).toBe("bearer");
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, auth, token, insecure),
      );
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: app.client_id });
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure),
    );
    expect((await introspect(tokens.access_token)).active).toBe(false);

    // client_credentials with DPoP as well: the proof's jti is spent in the client's own object.
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const bound = await withNonceRetry(
      async () =>
        oauth.processClientCredentialsResponse(
          as,
          client,
          await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), { DPoP, ...insecure }),
        ),
      { happened: false },
    );
    expect(bound.token_type).toBe("dpop");
  });
});
