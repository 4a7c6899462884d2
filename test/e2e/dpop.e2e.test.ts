/**
 * DPoP (RFC 9449) and private_key_jwt (RFC 7523) end to end against `wrangler dev`, with the
 * standard clients' own support: oauth4webapi's DPoP() and PrivateKeyJwt(), and openid-client's
 * DPoP handle. Covers the nonce dance (RFC 9449 §8: the first proof has no nonce, the server
 * answers use_dpop_nonce, the library retries), bound tokens at UserInfo (§7), refresh with a
 * bound refresh token (§5), introspection's cnf (§6.2), and assertions at token, introspection and
 * revocation (RFC 7523 §2.2).
 */
import * as oauth from "oauth4webapi";
import * as openid from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, openBrowser, submitForm } from "./harness/browser";
import { type CallbackServer, startCallbackServer } from "./harness/callback";
import { type E2eWorker, startWorker, stopWorker } from "./harness/server";

const insecure = { [oauth.allowInsecureRequests]: true } as const; // http is loopback-only here

let worker: E2eWorker;
let as: oauth.AuthorizationServer;
let browser: BrowserSession;
let callback: CallbackServer;
let signedIn = false;

beforeAll(async () => {
  worker = await startWorker({ name: "dpop", vars: { REGISTRATION_LIMIT_PER_HOUR: "100" } });
  const issuer = new URL(worker.issuer);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }),
  );
  browser = await openBrowser();
  callback = await startCallbackServer();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await callback?.close();
  if (worker) await stopWorker(worker);
});

async function registerPublic(extra: Record<string, unknown> = {}): Promise<oauth.Client> {
  const res = await fetch(as.registration_endpoint!, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "DPoP e2e",
      redirect_uris: [callback.redirectUri],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      scope: "openid profile email offline_access ir.incidents:read",
      ...extra,
    }),
  });
  expect(res.status).toBe(201);
  return { client_id: ((await res.json()) as { client_id: string }).client_id, token_endpoint_auth_method: "none" };
}

/** The person's part in Chromium: sign in once (dev sign-in), approve consent. */
async function authorize(url: URL): Promise<URL> {
  const { page } = browser;
  await page.goto(url.href);
  if (!signedIn) {
    await submitForm(page, { email: "admin@example.com" }, { form: 'form[action="/signin/dev"]' });
    signedIn = true;
  }
  await submitForm(page, {}, { submit: 'button[name="decision"][value="approve"]' });
  return callback.next();
}

async function authorizationUrl(clientId: string, verifier: string, state: string): Promise<URL> {
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: callback.redirectUri,
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
    const client = await registerPublic({ dpop_bound_access_tokens: true });
    const keyPair = await oauth.generateKeyPair("ES256");
    const DPoP = oauth.DPoP(client, keyPair);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const params = oauth.validateAuthResponse(
      as,
      client,
      await authorize(await authorizationUrl(client.client_id, verifier, state)),
      state,
    );

    const dance = { happened: false };
    const tokens = await withNonceRetry(
      async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, callback.redirectUri, verifier, {
            DPoP,
            ...insecure,
          }),
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
    const registered = await registerPublic();
    const config = await openid.discovery(new URL(worker.issuer), registered.client_id, undefined, openid.None(), {
      execute: [openid.allowInsecureRequests],
    });
    const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair("EdDSA"));
    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const redirected = await authorize(await authorizationUrl(registered.client_id, verifier, state));
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
    const res = await fetch(`${worker.baseUrl}/api/admin/apps`, {
      method: "POST",
      headers: { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" },
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
