/**
 * Restart safety: `wrangler dev` is stopped and started again (same state directory) between
 * issuing tokens and using them. Clients, consents, refresh tokens, signing keys and revocations
 * live in D1 and the Durable Objects, so all of them survive; nothing is held only in memory.
 */
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { submitForm } from "./harness/browser";
import { restartWorker, startWorker } from "./harness/server";
import { discover, e2eSetup, insecure } from "./harness/setup";

const setup = e2eSetup(() => startWorker({ name: "restart" }));

function authorizationUrl(
  as: oauth.AuthorizationServer,
  clientId: string,
  challenge: string,
  state: string,
  extra = {},
) {
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: setup.callback.redirectUri,
    response_type: "code",
    scope: "openid email ir.incidents:read",
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    ...extra,
  }).toString();
  return url;
}

describe("a restart of wrangler dev between issuing and using tokens", () => {
  it("keeps clients, consents, refresh tokens, keys and revocations", async () => {
    const { browser, callback } = setup;
    let worker = setup.worker;
    let as = await discover(worker);
    const registered = (await (
      await fetch(as.registration_endpoint!, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          client_name: "Restart probe",
          redirect_uris: [callback.redirectUri],
          token_endpoint_auth_method: "client_secret_basic",
        }),
      })
    ).json()) as { client_id: string; client_secret: string };
    const client: oauth.Client = { client_id: registered.client_id };
    const auth = oauth.ClientSecretBasic(registered.client_secret);

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    await browser.page.goto(
      authorizationUrl(as, client.client_id, await oauth.calculatePKCECodeChallenge(verifier), state).href,
    );
    await submitForm(browser.page, { email: "member@example.com" }, { form: 'form[action="/signin/dev"]' });
    await submitForm(browser.page, {}, { submit: 'button[name="decision"][value="approve"]' });
    const params = oauth.validateAuthResponse(as, client, await callback.next(), state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, callback.redirectUri, verifier, insecure),
    );
    const revokedEarly = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await (async () => {
        // A second authorization (consent already given: no page), whose access token we revoke before the restart.
        const v2 = oauth.generateRandomCodeVerifier();
        const s2 = oauth.generateRandomState();
        await browser.page.goto(
          authorizationUrl(as, client.client_id, await oauth.calculatePKCECodeChallenge(v2), s2).href,
        );
        const p2 = oauth.validateAuthResponse(as, client, await callback.next(), s2);
        return oauth.authorizationCodeGrantRequest(as, client, auth, p2, callback.redirectUri, v2, insecure);
      })(),
    );
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, revokedEarly.access_token, insecure),
    );
    const kidsBefore = ((await (await fetch(as.jwks_uri!)).json()) as { keys: { kid: string }[] }).keys
      .map((k) => k.kid)
      .sort();

    worker = await restartWorker(worker);
    as = await discover(worker);

    // Signing keys survived: same JWKS, and the access token minted before the restart still verifies.
    const kidsAfter = ((await (await fetch(as.jwks_uri!)).json()) as { keys: { kid: string }[] }).keys
      .map((k) => k.kid)
      .sort();
    expect(kidsAfter).toEqual(kidsBefore);
    const userinfo = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
    expect(userinfo.status).toBe(200);
    // The revocation survived too.
    expect((await oauth.userInfoRequest(as, client, revokedEarly.access_token, insecure)).status).toBe(401);

    // The client and its secret survived (client authentication), and so did the refresh token.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).toMatch(/^eoidc_rt_/);

    // The session and the consent survived: prompt=none gets a code straight away (OIDC Core §3.1.2.1).
    const v3 = oauth.generateRandomCodeVerifier();
    const s3 = oauth.generateRandomState();
    await browser.page.goto(
      authorizationUrl(as, client.client_id, await oauth.calculatePKCECodeChallenge(v3), s3, { prompt: "none" }).href,
    );
    const after = await callback.next();
    expect(after.searchParams.get("error")).toBeNull();
    expect(after.searchParams.get("code")).toMatch(/^eoidc_ac_/);
  });
});
