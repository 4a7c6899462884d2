/**
 * The OpenID Foundation's Basic OP certification plan (oidcc-basic-certification-test-plan), one
 * `describe` per test module, each asserting what that module checks — and, where the module stops
 * at "the OP may do either", the behaviour edge-oidc chose. Modules the plan runs against a live
 * server with a real browser are driven here through the real worker, real D1 and Durable Objects,
 * and the dev sign-in form (TestBrowser keeps the cookies). docs/conformance.md lists every module
 * with its status. Sections cited: OIDC Core 1.0 (§3.1.2.1 parameters, §3.1.2.6 errors, §5.3
 * UserInfo, §6 request objects, §12 refresh), RFC 6749, RFC 6750, RFC 9207, OIDC Discovery 1.0.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { base64url, createLocalJWKSet, decodeJwt, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import { dbOf } from "../src/store/db";
import { keysetOf } from "../src/tokens/signing-keys";
import { call, ORIGIN } from "./helpers";
import {
  authorizeUrl,
  createTestClient,
  DEMO,
  exchangeCode,
  pkcePair,
  sessionCookie,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";
import { hiddenField, TestBrowser } from "./signin-browser";

const ISSUER = ORIGIN; // wrangler.toml ISSUER
const STATE = "st-123"; // authorizeUrl's state
const now = () => Math.floor(Date.now() / 1000);

interface Tokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
  token_type: string;
  scope: string;
}

// ---- a relying party, as the certification suite plays it ---------------------------------------------

/** A browser signed in as `userId` (a session that began `ageSeconds` ago). */
async function signedInBrowser(userId: string, ageSeconds = 0): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const [name, value] = (await sessionCookie(userId, now() - ageSeconds)).split("=") as [string, string];
  browser.setCookie(name, value);
  return browser;
}

/** An authorization request as a GET link or a POSTed form (OIDC Core §3.1.2.1 allows both). */
function authorize(browser: TestBrowser, url: string, method: "GET" | "POST" = "GET"): Promise<Response> {
  if (method === "GET") return browser.fetch(url);
  return browser.fetch("/oauth/authorize", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: url.slice("/oauth/authorize?".length),
  });
}

/** RFC 6749 §4.1.2 / §4.1.2.1 + RFC 9207 §2: a 302 to the client's redirect URI with one iss. */
function backAtClient(res: Response, client: TestClient): URLSearchParams {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}${location.pathname}`).toBe(client.redirectUri);
  expect(location.searchParams.getAll("iss")).toEqual([ISSUER]);
  return location.searchParams;
}

function expectCode(res: Response, client: TestClient): string {
  const query = backAtClient(res, client);
  expect(query.get("error"), query.toString()).toBeNull();
  expect(query.get("state")).toBe(STATE);
  return query.get("code")!;
}

function expectError(res: Response, client: TestClient, error: string, state: string | null = STATE): void {
  const query = backAtClient(res, client);
  expect(query.get("error"), query.toString()).toBe(error);
  expect(query.get("error_description")).toBeTruthy();
  expect(query.get("state")).toBe(state);
  expect(query.has("code")).toBe(false);
}

/** A redirect to our sign-in page; returns its address. */
function expectSignIn(res: Response): URL {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location")!, ORIGIN);
  expect(location.origin).toBe(ORIGIN);
  expect(location.pathname).toBe("/signin");
  return location;
}

const unescapeHtml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"' })[e as string] ?? "'");

/** Opens the sign-in page, checks the email it prefills, signs in with the dev form, follows return_to. */
async function signInThrough(browser: TestBrowser, signIn: URL, email: string, prefilled?: string): Promise<Response> {
  const page = await browser.fetch(`${signIn.pathname}${signIn.search}`);
  const html = await page.text();
  expect(page.status).toBe(200);
  if (prefilled !== undefined) expect(/<input id="email"[^>]*value="([^"]*)"/.exec(html)?.[1]).toBe(prefilled);
  const done = await browser.post("/signin/dev", {
    csrf: hiddenField(html, "csrf"),
    return_to: unescapeHtml(hiddenField(html, "return_to")),
    email,
  });
  expect(done.status).toBe(303);
  return browser.fetch(done.headers.get("location")!);
}

async function redeem(client: TestClient, code: string, verifier: string): Promise<Tokens> {
  const res = await exchangeCode(client, code, verifier);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Tokens;
}

async function verifiedIdToken(token: string, client: TestClient): Promise<JWTPayload> {
  const jwks = createLocalJWKSet((await (await call("/oauth/discovery/keys")).json()) as never);
  return (await jwtVerify(token, jwks, { issuer: ISSUER, audience: client.id })).payload;
}

/** A complete code flow for a signed-in browser; returns the tokens. */
async function codeFlow(client: TestClient, browser: TestBrowser, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkcePair();
  const code = expectCode(await authorize(browser, authorizeUrl(client, challenge, extra)), client);
  return redeem(client, code, verifier);
}

const userinfo = (init: RequestInit) => call("/oauth/userinfo", init);
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

// ---- Basic OP modules --------------------------------------------------------------------------------

describe("oidcc-prompt-none-not-logged-in (OIDC Core §3.1.2.6)", () => {
  it("prompt=none without a session → login_required at the redirect URI with state and iss, no page", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const res = await authorize(
      new TestBrowser(),
      authorizeUrl(client, challenge, { scope: "openid", prompt: "none" }),
    );
    expectError(res, client, "login_required");
  });
});

describe("oidcc-prompt-login (OIDC Core §3.1.2.1 prompt=login)", () => {
  it("a signed-in user is asked to sign in again; the new ID token's auth_time is the new sign-in", async () => {
    const client = await createTestClient();
    const browser = await signedInBrowser(DEMO.member, 30);
    const first = await verifiedIdToken((await codeFlow(client, browser, { scope: "openid" })).id_token, client);

    const { verifier, challenge } = await pkcePair();
    const signIn = expectSignIn(
      await authorize(browser, authorizeUrl(client, challenge, { scope: "openid", prompt: "login" })),
    );
    expect(signIn.searchParams.get("prompt")).toBe("login"); // the page must not offer "continue as"
    const code = expectCode(await signInThrough(browser, signIn, "member@example.com"), client);
    const second = await verifiedIdToken((await redeem(client, code, verifier)).id_token, client);
    expect(second.sub).toBe(first.sub);
    expect(second.auth_time).toBeGreaterThan(first.auth_time as number);
  });
});

describe("oidcc-max-age-1 (OIDC Core §3.1.2.1 max_age)", () => {
  it("a session older than max_age=1 means sign in again, and auth_time shows it", async () => {
    const client = await createTestClient();
    const browser = await signedInBrowser(DEMO.member, 2); // the module waits a second or more
    const first = await verifiedIdToken((await codeFlow(client, browser, { scope: "openid" })).id_token, client);

    const { verifier, challenge } = await pkcePair();
    const signIn = expectSignIn(
      await authorize(browser, authorizeUrl(client, challenge, { scope: "openid", max_age: "1" })),
    );
    const code = expectCode(await signInThrough(browser, signIn, "member@example.com"), client);
    const second = await verifiedIdToken((await redeem(client, code, verifier)).id_token, client);
    // OIDC Core §2: auth_time is required when max_age was requested.
    expect(second.auth_time).toBeTypeOf("number");
    expect(second.auth_time).toBeGreaterThan(first.auth_time as number);
    expect(now() - (second.auth_time as number)).toBeLessThanOrEqual(1);
  });
});

describe("oidcc-max-age-10000 (OIDC Core §3.1.2.1 max_age)", () => {
  it("a session younger than max_age=10000 is reused without a sign-in, with its own auth_time", async () => {
    const client = await createTestClient();
    const authTime = now() - 600;
    const browser = await signedInBrowser(DEMO.member, 600);
    const tokens = await codeFlow(client, browser, { scope: "openid", max_age: "10000" });
    expect((await verifiedIdToken(tokens.id_token, client)).auth_time).toBe(authTime);
  });
});

/** An ID token signed with our current RS256 key, as the token endpoint would mint it (times chosen). */
async function ourIdToken(claims: JWTPayload & { aud: string }, typ = "JWT"): Promise<string> {
  const keyset = await keysetOf(dbOf(env.DB), settingsOf(env));
  const key = keyset.current.RS256;
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ, kid: key.kid }).sign(key.privateKey);
}

describe("oidcc-id-token-hint (OIDC Core §3.1.2.1 id_token_hint)", () => {
  it("prompt=none with the user's own ID token as hint → a code for the same user", async () => {
    const client = await createTestClient();
    const browser = await signedInBrowser(DEMO.member);
    const first = await codeFlow(client, browser, { scope: "openid" });
    const { verifier, challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid", prompt: "none", id_token_hint: first.id_token });
    const second = await redeem(client, expectCode(await authorize(browser, url), client), verifier);
    expect((await verifiedIdToken(second.id_token, client)).sub).toBe(DEMO.member);
  });

  it("an expired ID token of ours is still a good hint (OIDC Core §3.1.2.1)", async () => {
    const client = await createTestClient();
    const t = now();
    const hint = await ourIdToken({ iss: ISSUER, sub: DEMO.member, aud: client.id, iat: t - 7200, exp: t - 3600 });
    const { challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid", prompt: "none", id_token_hint: hint });
    expectCode(await authorize(await signedInBrowser(DEMO.member), url), client);
  });

  for (const method of ["GET", "POST"] as const) {
    it(`${method}: prompt=none with another user's ID token → login_required with state and iss, never their code`, async () => {
      const client = await createTestClient();
      const observer = await codeFlow(client, await signedInBrowser(DEMO.observer), { scope: "openid" });
      const { challenge } = await pkcePair();
      const url = authorizeUrl(client, challenge, {
        scope: "openid",
        prompt: "none",
        id_token_hint: observer.id_token,
      });
      expectError(await authorize(await signedInBrowser(DEMO.member), url, method), client, "login_required");
    });

    it(`${method}: a hint that is not our ID token for this client → invalid_request with state and iss`, async () => {
      const client = await createTestClient();
      const other = await createTestClient();
      const browser = await signedInBrowser(DEMO.member);
      const own = await codeFlow(client, browser, { scope: "openid" });
      const foreign = await codeFlow(other, browser, { scope: "openid" });
      const [header, payload, signature] = own.id_token.split(".") as [string, string, string];
      const t = now();
      const forged = await new SignJWT({ sub: DEMO.member })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: JSON.parse(atob(header)).kid })
        .setIssuer(ISSUER)
        .setAudience(client.id)
        .setIssuedAt(t)
        .setExpirationTime(t + 60)
        .sign((await generateKeyPair("RS256")).privateKey);
      const bad: [string, string][] = [
        ["a changed signature", `${header}.${payload}.${signature.slice(0, -4)}AAAA`],
        [
          "a changed payload",
          `${header}.${base64url.encode(JSON.stringify({ ...decodeJwt(own.id_token), sub: DEMO.admin }))}.${signature}`,
        ],
        ["an ID token issued to another client (aud)", foreign.id_token],
        ["our access token (typ at+jwt, RFC 9068)", own.access_token],
        ["a token signed by someone else's key under our kid", forged],
        [
          "another issuer",
          await ourIdToken({ iss: "https://other.example", sub: DEMO.member, aud: client.id, iat: t, exp: t + 60 }),
        ],
        [
          "an ID token issued in the future",
          await ourIdToken({ iss: ISSUER, sub: DEMO.member, aud: client.id, iat: t + 3600, exp: t + 7200 }),
        ],
        ["not a JWT", "not-a-jwt"],
      ];
      for (const [what, hint] of bad) {
        const { challenge } = await pkcePair();
        const url = authorizeUrl(client, challenge, { scope: "openid", id_token_hint: hint });
        const res = await authorize(browser, url, method);
        const query = backAtClient(res, client);
        expect(query.get("error_description"), what).toContain("id_token_hint");
        expectError(res, client, "invalid_request");
      }
    });
  }

  it("without prompt=none, another user's hint sends the person to sign in as that user (email prefilled)", async () => {
    const client = await createTestClient();
    const hint = (await codeFlow(client, await signedInBrowser(DEMO.observer), { scope: "openid email" })).id_token;
    const browser = await signedInBrowser(DEMO.member);
    const { verifier, challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid", id_token_hint: hint });
    const signIn = expectSignIn(await authorize(browser, url));
    expect(signIn.searchParams.get("prompt")).toBe("login"); // no "continue as member" shortcut
    expect(signIn.searchParams.get("login_hint")).toBe("observer@example.com");

    // Signing in as the wrong person again is sent back to sign in; no code for them, ever.
    const again = expectSignIn(await signInThrough(browser, signIn, "member@example.com", "observer@example.com"));
    const code = expectCode(
      await signInThrough(browser, again, "observer@example.com", "observer@example.com"),
      client,
    );
    const tokens = await redeem(client, code, verifier);
    expect((await verifiedIdToken(tokens.id_token, client)).sub).toBe(DEMO.observer);
  });

  it("with nobody signed in, the hint's user is prefilled on the sign-in page", async () => {
    const client = await createTestClient();
    const hint = (await codeFlow(client, await signedInBrowser(DEMO.observer), { scope: "openid email" })).id_token;
    const { challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid", id_token_hint: hint, login_hint: "x@example.com" });
    expect(expectSignIn(await authorize(new TestBrowser(), url)).searchParams.get("login_hint")).toBe(
      "observer@example.com",
    );
  });

  it("never reveals an email the client was not granted (OIDC Core §5.4): no email claim, no email prefilled", async () => {
    const client = await createTestClient();
    const hint = (await codeFlow(client, await signedInBrowser(DEMO.observer), { scope: "openid" })).id_token;
    expect(decodeJwt(hint).email).toBeUndefined();
    const { challenge } = await pkcePair();
    for (const [browser, extra] of [
      [new TestBrowser(), {}],
      [await signedInBrowser(DEMO.member), { login_hint: "x@example.com" }],
    ] as const) {
      const url = authorizeUrl(client, challenge, { scope: "openid", id_token_hint: hint, ...extra });
      const signIn = expectSignIn(await authorize(browser, url));
      expect(signIn.href).not.toContain("observer");
      expect(signIn.searchParams.get("login_hint")).toBe("login_hint" in extra ? "x@example.com" : null);
    }
  });

  it("the consent decision re-checks the hint: posted by another signed-in user → sign-in, no code", async () => {
    const client = await createTestClient({ automaticConsent: false });
    const hint = await ourIdToken({ iss: ISSUER, sub: DEMO.member, aud: client.id, iat: now(), exp: now() + 60 });
    const member = await signedInBrowser(DEMO.member);
    const { challenge } = await pkcePair();
    const page = await authorize(member, authorizeUrl(client, challenge, { scope: "openid", id_token_hint: hint }));
    const html = await page.text();
    expect(page.status, html.slice(0, 300)).toBe(200);
    const fields: Record<string, string | string[]> = { decision: "approve", scope: ["openid"] };
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      fields[m[1]!] = unescapeHtml(m[2]!);
    }
    expect(fields.id_token_hint).toBe(hint);
    // Another person's session in the same browser, as after signing in elsewhere in another tab.
    const [, admin] = (await sessionCookie(DEMO.admin)).split("=") as [string, string];
    member.setCookie("eoidc_session", admin);
    expectSignIn(await member.post("/oauth/authorize/decision", fields));
  });
});

/** An unsigned request object (alg none, OIDC Core §6.1) whose values differ from the outer ones. */
function unsignedRequestObject(client: TestClient, challenge: string): string {
  const part = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const claims = {
    iss: client.id,
    aud: ISSUER,
    response_type: "code",
    client_id: client.id,
    redirect_uri: client.redirectUri,
    scope: "openid email",
    state: "state-inside-the-object",
    nonce: "nonce-inside-the-object",
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  return `${part({ alg: "none" })}.${part(claims)}.`;
}

describe("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported (OIDC Core §6.1)", () => {
  for (const method of ["GET", "POST"] as const) {
    it(`${method}: request=… → request_not_supported with the outer state and iss, even for a signed-in user`, async () => {
      const client = await createTestClient();
      const { challenge } = await pkcePair();
      const url = authorizeUrl(client, challenge, {
        scope: "openid",
        request: unsignedRequestObject(client, challenge),
      });
      expectError(await authorize(await signedInBrowser(DEMO.member), url, method), client, "request_not_supported");
    });
  }

  it("refuses a request that carries its parameters only inside the object (RFC 9101 §5), not with invalid_request", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const url = `/oauth/authorize?${new URLSearchParams({
      client_id: client.id,
      state: STATE,
      request: unsignedRequestObject(client, challenge),
    })}`;
    expectError(await authorize(await signedInBrowser(DEMO.member), url), client, "request_not_supported");
  });

  it("discovery says so: request_parameter_supported is false (OIDC Discovery §3)", async () => {
    const md = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(md.request_parameter_supported).toBe(false);
  });
});

describe("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported (OIDC Core §6.2)", () => {
  for (const method of ["GET", "POST"] as const) {
    it(`${method}: request_uri=… → request_uri_not_supported with state and iss, the URI never fetched`, async () => {
      const client = await createTestClient();
      for (const requestUri of ["https://rp.example/requests/abc.jwt", "urn:ietf:params:oauth:request_uri:abc"]) {
        const { challenge } = await pkcePair();
        const url = authorizeUrl(client, challenge, { scope: "openid", request_uri: requestUri });
        const res = await authorize(await signedInBrowser(DEMO.member), url, method);
        expectError(res, client, "request_uri_not_supported");
      }
    });
  }

  it("discovery says so: request_uri_parameter_supported is false (its default would be true)", async () => {
    const md = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(md.request_uri_parameter_supported).toBe(false);
  });
});

describe("oidcc-codereuse-30seconds (RFC 6749 §4.1.2, OIDC Core §3.1.3.2)", () => {
  it("a code redeemed 30 s earlier fails with invalid_grant and revokes the tokens of its first redemption", async () => {
    // What this covers: the module redeems a code, waits 30 s, redeems it again. Instead of waiting,
    // the code's redemption and expiry times in the user's Durable Object are moved 30 s back, as
    // if 30 s had passed; the code is then still inside its 60 s lifetime, so the refusal comes from
    // single use, not from expiry. The access token's own clock is not moved.
    const client = await createTestClient();
    const browser = await signedInBrowser(DEMO.member);
    const { verifier, challenge } = await pkcePair();
    const code = expectCode(await authorize(browser, authorizeUrl(client, challenge, { scope: "openid" })), client);
    const first = await redeem(client, code, verifier);
    expect((await userinfo({ headers: bearer(first.access_token) })).status).toBe(200);

    const stub = env.USER_GRANTS.get(env.USER_GRANTS.idFromName(DEMO.member));
    const remaining = await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE codes SET redeemed_at = redeemed_at - 30000, expires_at = expires_at - 30000 WHERE redeemed_at IS NOT NULL",
      );
      return [
        ...state.storage.sql.exec<{ left: number }>("SELECT MIN(expires_at) - ? AS left FROM codes", Date.now()),
      ][0]!.left;
    });
    expect(remaining).toBeGreaterThan(0); // not expired: only single use can refuse it

    const replay = await exchangeCode(client, code, verifier);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");
    // RFC 6749 §4.1.2 "SHOULD revoke": the module warns if the first access token still works.
    const after = await userinfo({ headers: bearer(first.access_token) });
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toContain("invalid_token");
    const refresh = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: first.refresh_token });
    expect(((await refresh.json()) as { error: string }).error).toBe("invalid_grant");
  });
});

describe("oidcc-ensure-request-without-nonce-succeeds-for-code-flow (OIDC Core §3.1.2.1: nonce is optional)", () => {
  it("no nonce → a code, and an ID token without a nonce claim", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid" });
    expect(await verifiedIdToken(tokens.id_token, client)).not.toHaveProperty("nonce");
  });
});

describe("oidcc-ensure-other-scope-order-succeeds (RFC 6749 §3.3: scope order does not matter)", () => {
  it("scope=email openid → a code and an ID token with the email claim", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "email openid" });
    expect((await verifiedIdToken(tokens.id_token, client)).email).toBe("member@example.com");
    expect(tokens.scope.split(" ").sort()).toEqual(["email", "openid"]);
  });
});

describe("oidcc-ensure-post-request-succeeds (OIDC Core §3.1.2.1: GET and POST)", () => {
  it("a form POST to the authorization endpoint → a code that redeems", async () => {
    const client = await createTestClient();
    const { verifier, challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid", nonce: "n-post" });
    const code = expectCode(await authorize(await signedInBrowser(DEMO.member), url, "POST"), client);
    expect((await verifiedIdToken((await redeem(client, code, verifier)).id_token, client)).nonce).toBe("n-post");
  });
});

describe("oidcc-userinfo-get (OIDC Core §5.3.1, RFC 6750 §2.1)", () => {
  it("GET with a Bearer header → the claims, whose sub equals the ID token's", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid email" });
    const res = await userinfo({ headers: bearer(tokens.access_token) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.sub).toBe((await verifiedIdToken(tokens.id_token, client)).sub); // OIDC Core §5.3.2
    expect(body.email).toBe("member@example.com");
  });
});

describe("oidcc-userinfo-post-header (OIDC Core §5.3.1, RFC 6750 §2.1)", () => {
  it("POST with a Bearer header → the claims", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid" });
    const res = await userinfo({ method: "POST", headers: bearer(tokens.access_token) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: DEMO.member });
  });
});

describe("oidcc-userinfo-post-body (OIDC Core §5.3.1, RFC 6750 §2.2)", () => {
  it("POST with access_token in a form body → the claims", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid" });
    const res = await userinfo({
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: DEMO.member });
  });
});

describe("oidcc-refresh-token (OIDC Core §12, RFC 6749 §6)", () => {
  it("the refresh token gets a working access token for the same user; no other client can use it", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid offline_access" });
    const res = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const refreshed = JSON.parse(text) as Partial<Tokens>;
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token); // rotated
    // OIDC Core §12.2: an ID token in a refresh response is optional; edge-oidc sends none.
    expect(refreshed.id_token).toBeUndefined();
    const me = await userinfo({ headers: bearer(refreshed.access_token!) });
    expect(((await me.json()) as { sub: string }).sub).toBe(DEMO.member);

    const thief = await createTestClient({ method: "client_secret_basic" });
    const stolen = await tokenRequest(thief, { grant_type: "refresh_token", refresh_token: refreshed.refresh_token! });
    expect(stolen.status).toBe(400);
    expect(((await stolen.json()) as { error: string }).error).toBe("invalid_grant");
  });
});

describe("oidcc-server-client-secret-post (RFC 6749 §2.3.1, OIDC Core §9)", () => {
  it("a client registered for client_secret_post authenticates with the secret in the body", async () => {
    const client = await createTestClient({ method: "client_secret_post" });
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid" });
    expect((await verifiedIdToken(tokens.id_token, client)).sub).toBe(DEMO.member);
  });

  it("a wrong secret in the body → 401 invalid_client", async () => {
    const client = await createTestClient({ method: "client_secret_post" });
    const res = await tokenRequest({ ...client, secret: "wrong" }, { grant_type: "client_credentials" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_client");
  });
});

describe("oidcc-response-type-missing (RFC 6749 §4.1.2.1)", () => {
  it("no response_type → invalid_request at the redirect URI with state and iss", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid" }).replace("response_type=code&", "");
    expect(url).not.toContain("response_type");
    expectError(await authorize(await signedInBrowser(DEMO.member), url), client, "invalid_request");
  });
});

describe("oidcc-ensure-registered-redirect-uri (RFC 6749 §3.1.2.4, §4.1.2.1)", () => {
  it("an unregistered redirect_uri → an error page for the person, never a redirect", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const url = authorizeUrl({ ...client, redirectUri: "https://attacker.example/callback" }, challenge, {
      scope: "openid",
    });
    const res = await authorize(await signedInBrowser(DEMO.member), url);
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).not.toContain("attacker.example");
  });
});

describe("oidcc-claims-essential (OIDC Core §5.5: the claims parameter may be ignored)", () => {
  it("claims={userinfo:{name:{essential:true}}} is ignored, not an error; profile still yields name", async () => {
    const client = await createTestClient();
    const claims = JSON.stringify({ userinfo: { name: { essential: true } } });
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid profile", claims });
    const body = (await (await userinfo({ headers: bearer(tokens.access_token) })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ sub: DEMO.member, name: "Demo Member" });
    const md = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(md.claims_parameter_supported).toBe(false);
  });
});

for (const display of ["page", "popup"] as const) {
  describe(`oidcc-display-${display} (OIDC Core §3.1.2.1 display)`, () => {
    it(`display=${display} is accepted: a code for a signed-in user, the sign-in page for a new one`, async () => {
      const client = await createTestClient();
      await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", display });
      const { challenge } = await pkcePair();
      expectSignIn(await authorize(new TestBrowser(), authorizeUrl(client, challenge, { scope: "openid", display })));
    });
  });
}

describe("oidcc-ui-locales (OIDC Core §3.1.2.1 ui_locales)", () => {
  it("ui_locales=se is accepted (pages are in English, ui_locales_supported says so)", async () => {
    const client = await createTestClient();
    await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", ui_locales: "se" });
    const md = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(md.ui_locales_supported).toEqual(["en"]);
  });
});

describe("oidcc-login-hint (OIDC Core §3.1.2.1 login_hint)", () => {
  it("login_hint prefills the sign-in page; signing in completes the flow for that user", async () => {
    const client = await createTestClient();
    const browser = new TestBrowser();
    const { verifier, challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid", login_hint: "member@example.com" });
    const signIn = expectSignIn(await authorize(browser, url));
    expect(signIn.searchParams.get("login_hint")).toBe("member@example.com");
    const code = expectCode(await signInThrough(browser, signIn, "member@example.com", "member@example.com"), client);
    expect((await verifiedIdToken((await redeem(client, code, verifier)).id_token, client)).sub).toBe(DEMO.member);
  });
});

// ---- further modules of the Basic OP plan -----------------------------------------------------------

describe("oidcc-server (OIDC Core §3.1: the authorization code flow)", () => {
  it("code → tokens: an RS256 ID token for the client with iss, sub, aud, exp, iat, auth_time, nonce, at_hash", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", nonce: "n-1" });
    expect(tokens.token_type).toBe("Bearer");
    const id = await verifiedIdToken(tokens.id_token, client);
    for (const claim of ["iss", "sub", "aud", "exp", "iat", "auth_time", "at_hash"])
      expect(id, claim).toHaveProperty(claim);
    expect(id.nonce).toBe("n-1");
  });
});

describe("oidcc-prompt-none-logged-in (OIDC Core §3.1.2.1 prompt=none)", () => {
  it("prompt=none with a session and the app already approved → a code, no page", async () => {
    const client = await createTestClient(); // automatic consent, as after a first approval
    await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", prompt: "none" });
  });
});

describe("oidcc-codereuse (RFC 6749 §4.1.2)", () => {
  it("a code redeemed a second time at once → invalid_grant, and the first access token dies", async () => {
    const client = await createTestClient();
    const { verifier, challenge } = await pkcePair();
    const browser = await signedInBrowser(DEMO.member);
    const code = expectCode(await authorize(browser, authorizeUrl(client, challenge, { scope: "openid" })), client);
    const first = await redeem(client, code, verifier);
    const replay = await exchangeCode(client, code, verifier);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");
    expect((await userinfo({ headers: bearer(first.access_token) })).status).toBe(401);
  });
});

describe("oidcc-ensure-request-with-unknown-parameter-succeeds (RFC 6749 §3.1: unknown parameters are ignored)", () => {
  it("an unknown parameter does not change the answer", async () => {
    const client = await createTestClient();
    await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", extra_param: "foobar" });
  });
});

describe("oidcc-ensure-request-with-acr-values-succeeds (OIDC Core §3.1.2.1 acr_values is voluntary)", () => {
  it("acr_values is accepted and ignored: a code, an ID token without acr", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", acr_values: "1 2" });
    expect(await verifiedIdToken(tokens.id_token, client)).not.toHaveProperty("acr");
  });
});

describe("oidcc-claims-locales (OIDC Core §5.2: claims_locales may be ignored)", () => {
  it("claims_locales=se is accepted", async () => {
    const client = await createTestClient();
    await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid", claims_locales: "se" });
  });
});

describe("oidcc-scope-profile and oidcc-scope-email (OIDC Core §5.4)", () => {
  it("profile → name at userinfo; email → email and email_verified", async () => {
    const client = await createTestClient();
    const tokens = await codeFlow(client, await signedInBrowser(DEMO.member), { scope: "openid profile email" });
    const body = (await (await userinfo({ headers: bearer(tokens.access_token) })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      sub: DEMO.member,
      name: "Demo Member",
      email: "member@example.com",
      email_verified: true,
    });
  });

  it("address and phone are not offered: scopes_supported omits them, and asking is invalid_scope", async () => {
    const md = (await (await call("/.well-known/openid-configuration")).json()) as { scopes_supported: string[] };
    expect(md.scopes_supported).not.toContain("address");
    expect(md.scopes_supported).not.toContain("phone");
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const url = authorizeUrl(client, challenge, { scope: "openid address phone" });
    expectError(await authorize(await signedInBrowser(DEMO.member), url), client, "invalid_scope");
  });
});

// ---- beyond the plan -------------------------------------------------------------------------------

describe("empty request, request_uri and id_token_hint are omitted parameters (RFC 6749 §3.1)", () => {
  it("request=, request_uri= and id_token_hint= with no value → a code, as without them", async () => {
    const client = await createTestClient();
    const browser = await signedInBrowser(DEMO.member);
    await codeFlow(client, browser, { scope: "openid", request: "", request_uri: "", id_token_hint: "" });
  });
});

// ---- Config OP -----------------------------------------------------------------------------------------

describe("oidcc-discovery-endpoint-verification (Config OP; OIDC Discovery 1.0 §3, §4)", () => {
  it("serves the fields the module checks, with the issuer byte for byte", async () => {
    const res = await call("/.well-known/openid-configuration");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const md = (await res.json()) as Record<string, unknown>;
    expect(md.issuer).toBe(ISSUER); // §4.3: equal to the URL the document was fetched under, minus the suffix
    for (const field of [
      "authorization_endpoint",
      "token_endpoint",
      "userinfo_endpoint",
      "jwks_uri",
      "registration_endpoint",
    ])
      expect(md[field], field).toMatch(new RegExp(`^${ISSUER}/`));
    expect(md.scopes_supported).toContain("openid");
    expect(md.response_types_supported).toEqual(["code"]);
    expect(md.subject_types_supported).toEqual(["public"]);
    expect(md.id_token_signing_alg_values_supported).toContain("RS256");
    expect(md.grant_types_supported).toContain("authorization_code");
    expect(md.claims_supported).toEqual(expect.arrayContaining(["sub", "iss", "aud", "exp", "iat", "auth_time"]));
    expect(md.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(["client_secret_basic", "client_secret_post"]),
    );
    for (const flag of ["claims_parameter_supported", "request_parameter_supported", "request_uri_parameter_supported"])
      expect(md[flag], flag).toBe(false);
  });

  it("publishes a JWKS whose every key has a kid, an RS256 signing key among them", async () => {
    const { jwks_uri } = (await (await call("/.well-known/openid-configuration")).json()) as { jwks_uri: string };
    const res = await call(new URL(jwks_uri).pathname);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.kid).toBeTruthy();
      expect(key).not.toHaveProperty("d"); // public parts only
    }
    expect(keys.some((k) => k.kty === "RSA" && k.alg === "RS256" && k.use === "sig")).toBe(true);
  });
});
