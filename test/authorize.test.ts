/**
 * GET/POST /oauth/authorize and POST /oauth/authorize/decision: RFC 6749 §3.1, §4.1, §4.1.2.1;
 * RFC 7636 §4.3, §4.4.1; RFC 8252 §7.3; RFC 9207 §2; RFC 8707 §2; OIDC Core §3.1.2.1, §3.1.2.6.
 * Everything runs through the real worker with real D1 and Durable Objects; nothing is mocked.
 */
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { call, ORIGIN } from "./helpers";
import {
  authorizeUrl,
  createTestClient,
  DEMO,
  exchangeCode,
  pkcePair,
  sessionCookie,
  type TestClient,
} from "./oauth-helpers";

const ISSUER = ORIGIN; // wrangler.toml ISSUER
const now = () => Math.floor(Date.now() / 1000);

// ---- helpers ---------------------------------------------------------------------------------------

function get(path: string, cookie?: string): Promise<Response> {
  return call(path, { redirect: "manual", headers: cookie ? { Cookie: cookie } : {} });
}

/** A fresh PKCE pair and the authorize URL for it. */
async function request(client: TestClient, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkcePair();
  return { verifier, url: authorizeUrl(client, challenge, extra) };
}

/** A query string the helpers cannot build: raw pairs, repeated names allowed. */
function rawAuthorizeUrl(pairs: [string, string][]): string {
  return `/oauth/authorize?${new URLSearchParams(pairs)}`;
}

/** RFC 9207 §2: exactly one iss, equal to the issuer, on every redirect back to the client. */
function expectIss(url: URL) {
  expect(url.searchParams.getAll("iss"), url.href).toEqual([ISSUER]);
}

/** A 302 back to `redirectUri`; returns the parsed Location. */
function redirectTo(res: Response, redirectUri: string): URL {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}${location.pathname}`).toBe(
    `${new URL(redirectUri).origin}${new URL(redirectUri).pathname}`,
  );
  expectIss(location);
  return location;
}

/** RFC 6749 §4.1.2.1 error redirect with error, error_description, the state and iss. */
function expectErrorRedirect(res: Response, client: TestClient, error: string, state: string | null = "st-123") {
  const location = redirectTo(res, client.redirectUri);
  expect(location.searchParams.get("error"), location.href).toBe(error);
  expect(location.searchParams.get("error_description")).toBeTruthy();
  expect(location.searchParams.get("state")).toBe(state);
  expect(location.searchParams.has("code")).toBe(false);
  return location;
}

function expectCode(res: Response, client: TestClient, state: string | null = "st-123", redirectUri?: string): string {
  const location = redirectTo(res, redirectUri ?? client.redirectUri);
  expect(location.searchParams.get("error"), location.href).toBeNull();
  expect(location.searchParams.get("state")).toBe(state);
  const code = location.searchParams.get("code");
  expect(code).toBeTruthy();
  return code!;
}

/** An HTML page with the page security headers; never a redirect. */
async function expectPage(res: Response, status: number): Promise<string> {
  const html = await res.text();
  expect(res.status, html.slice(0, 500)).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
  return html;
}

const expectErrorPage = (res: Response) => expectPage(res, 400);

/** A redirect to the sign-in page; returns its query. */
function expectSignIn(res: Response): URLSearchParams {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location")!, ORIGIN);
  expect(location.origin).toBe(ORIGIN);
  expect(location.pathname).toBe("/signin");
  return location.searchParams;
}

async function tokenScope(client: TestClient, code: string, verifier: string) {
  const res = await exchangeCode(client, code, verifier);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as { scope: string; access_token: string; id_token?: string };
}

const decode = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"' })[e as string] ?? "'");

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out[m[1]!] = decode(m[2]!);
  return out;
}

interface ConsentForm {
  html: string;
  hidden: [string, string][];
  csrfCookie: string;
  scopes: { scope: string; checked: boolean; disabled: boolean }[];
  /** The area switches (name="area") that are ticked as the page comes: a browser posts them. */
  areas: string[];
}

/** Reads the consent page like a browser: hidden fields, checkboxes and the CSRF cookie. */
async function consentForm(res: Response): Promise<ConsentForm> {
  const html = await expectPage(res, 200);
  const inputs = [...html.matchAll(/<input\b[^>]*>/g)].map((m) => attributes(m[0]));
  const hidden = inputs.filter((i) => i.type === "hidden").map((i): [string, string] => [i.name!, i.value ?? ""]);
  const scopes = inputs
    .filter((i) => i.type === "checkbox" && i.name === "scope")
    .map((i) => ({ scope: i.value!, checked: "checked" in i, disabled: "disabled" in i }));
  const areas = inputs.filter((i) => i.type === "checkbox" && i.name === "area" && "checked" in i).map((i) => i.value!);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("eoidc_csrf="));
  const csrfCookie = setCookie!.split(";")[0]!;
  // Double submit: the hidden field carries the cookie's value.
  expect(hidden.find(([n]) => n === "csrf")?.[1]).toBe(csrfCookie.slice("eoidc_csrf=".length));
  return { html, hidden, csrfCookie, scopes, areas };
}

/** Submits the consent form the way a browser would (cookies, hidden fields, ticked boxes, button). */
function decide(
  session: string,
  form: ConsentForm,
  decision: "approve" | "deny",
  ticked: string[],
  tamper: {
    csrf?: string | null;
    cookie?: string | null;
    origin?: string;
    fields?: Record<string, string>;
    /** The area switches to post instead of the page's ticked ones. */
    areas?: string[];
  } = {},
) {
  const body = new URLSearchParams();
  for (const [name, value] of form.hidden) {
    if (name === "csrf") {
      if (tamper.csrf !== null) body.append(name, tamper.csrf ?? value);
    } else body.append(name, tamper.fields?.[name] ?? value);
  }
  for (const scope of ticked) body.append("scope", scope);
  for (const area of tamper.areas ?? form.areas) body.append("area", area);
  body.append("decision", decision);
  const cookies = [session, tamper.cookie === undefined ? form.csrfCookie : tamper.cookie].filter(Boolean);
  const headers: Record<string, string> = {
    "Content-Type": "application/x-www-form-urlencoded",
    Cookie: cookies.join("; "),
  };
  if (tamper.origin) headers.Origin = tamper.origin;
  return call("/oauth/authorize/decision", { method: "POST", headers, body, redirect: "manual" });
}

async function consentsOf(userId: string, clientId: string): Promise<string[] | null> {
  const row = await env.DB.prepare("SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?")
    .bind(userId, clientId)
    .first<{ scopes: string }>();
  return row ? (JSON.parse(row.scopes) as string[]) : null;
}

async function auditKinds(clientId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT kind FROM audit_events WHERE client_id = ? ORDER BY id")
    .bind(clientId)
    .all<{ kind: string }>();
  return results.map((r) => r.kind);
}

const consentClient = (options: Parameters<typeof createTestClient>[0] = {}) =>
  createTestClient({ automaticConsent: false, ...options });

// ---- client_id and redirect_uri: a page, never a redirect ---------------------------------------------

describe("unverified client or redirect URI → error page, never a redirect (RFC 6749 §4.1.2.1, §3.1.2.4)", () => {
  it("refuses an unknown, missing or oversized client_id with a page", async () => {
    const client = await createTestClient();
    const cookie = await sessionCookie(DEMO.admin);
    const { url } = await request({ ...client, id: "no_such_client" });
    expect(await expectErrorPage(await get(url, cookie))).toContain("not registered");
    const missing = (await request(client)).url.replace(/client_id=[^&]+&/, "");
    expect(missing).not.toContain("client_id");
    await expectErrorPage(await get(missing, cookie));
    await expectErrorPage(await get((await request({ ...client, id: "x".repeat(5000) })).url, cookie));
  });

  it("refuses an unregistered redirect_uri with a page, even when other parameters are wrong too", async () => {
    const client = await createTestClient();
    const cookie = await sessionCookie(DEMO.admin);
    const { url } = await request(client, { redirect_uri: "https://app.example/other" });
    expect(await expectErrorPage(await get(url, cookie))).toContain("not registered");
    // The redirect URI is checked before response_type: nothing may go to an unverified URI.
    const both = await request(client, { redirect_uri: "https://app.example/other", response_type: "token" });
    await expectErrorPage(await get(both.url, cookie));
  });

  it("refuses a repeated client_id or redirect_uri with a page, even if both values are right (RFC 6749 §3.1)", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const base: [string, string][] = [
      ["response_type", "code"],
      ["code_challenge", challenge],
      ["code_challenge_method", "S256"],
      ["state", "st-123"],
    ];
    const cookie = await sessionCookie(DEMO.admin);
    const ids = rawAuthorizeUrl([
      ...base,
      ["client_id", client.id],
      ["client_id", client.id],
      ["redirect_uri", client.redirectUri],
    ]);
    expect(await expectErrorPage(await get(ids, cookie))).toContain("client_id");
    const uris = rawAuthorizeUrl([
      ...base,
      ["client_id", client.id],
      ["redirect_uri", client.redirectUri],
      ["redirect_uri", "https://evil.example/cb"],
    ]);
    expect(await expectErrorPage(await get(uris, cookie))).toContain("redirect_uri");
  });

  it("uses the only registered redirect URI when redirect_uri is omitted (OAuth 2.1 §4.1.1)", async () => {
    const client = await createTestClient();
    const { url, verifier } = await request(client);
    const omitted = url.replace(/redirect_uri=[^&]+&/, "");
    expect(omitted).not.toContain("redirect_uri");
    const code = expectCode(await get(omitted, await sessionCookie(DEMO.admin)), client);
    await tokenScope(client, code, verifier);
  });
});

describe("loopback redirect URIs match any port (RFC 8252 §7.3)", () => {
  it("accepts a registered loopback URI on another port and binds the code to the port used", async () => {
    const client = await createTestClient({ redirectUri: "http://127.0.0.1:3000/cb" });
    const used = "http://127.0.0.1:49152/cb";
    const { url, verifier } = await request(client, { redirect_uri: used });
    const code = expectCode(await get(url, await sessionCookie(DEMO.admin)), client, "st-123", used);
    expect(new URL(used).port).toBe("49152");
    const res = await exchangeCode(client, code, verifier, { redirect_uri: used });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("still requires the same host, path and query on loopback", async () => {
    const client = await createTestClient({ redirectUri: "http://127.0.0.1:3000/cb?x=1" });
    const cookie = await sessionCookie(DEMO.admin);
    for (const uri of [
      "http://127.0.0.1:49152/other?x=1",
      "http://127.0.0.1:49152/cb?x=2",
      "http://127.0.0.1:49152/cb",
      "http://localhost:3000/cb?x=1",
      "http://[::1]:3000/cb?x=1",
      "https://127.0.0.1:3000/cb?x=1",
      "http://127.0.0.2:3000/cb?x=1",
    ]) {
      await expectErrorPage(await get((await request(client, { redirect_uri: uri })).url, cookie));
    }
  });

  it("does not extend any-port matching to https redirect URIs", async () => {
    const client = await createTestClient({ redirectUri: "https://app.example/callback" });
    const cookie = await sessionCookie(DEMO.admin);
    for (const uri of ["https://app.example:8443/callback", "https://app.example:443/callback"]) {
      await expectErrorPage(await get((await request(client, { redirect_uri: uri })).url, cookie));
    }
  });
});

// ---- errors that go back to the client -------------------------------------------------------------

describe("other errors redirect with error, error_description, state and iss (RFC 6749 §4.1.2.1, RFC 9207 §2)", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["response_type=token (OAuth 2.1: code only)", { response_type: "token" }, "unsupported_response_type"],
    ["response_type=code id_token", { response_type: "code id_token" }, "unsupported_response_type"],
    ["code_challenge_method=plain (RFC 7636 §4.3, OAuth 2.1)", { code_challenge_method: "plain" }, "invalid_request"],
    ["an unknown code_challenge_method", { code_challenge_method: "S512" }, "invalid_request"],
    ["a challenge that is too short (RFC 7636 §4.2)", { code_challenge: "abc" }, "invalid_request"],
    ["a challenge that is too long", { code_challenge: "a".repeat(44) }, "invalid_request"],
    ["a challenge with characters outside base64url", { code_challenge: `${"a".repeat(42)}+` }, "invalid_request"],
    ["an unknown scope (RFC 6749 §3.3)", { scope: "openid admin:everything" }, "invalid_scope"],
    ["a scope with a forbidden character", { scope: 'openid "x"' }, "invalid_scope"],
    ["a granular scope the client did not register", { scope: "ir.services:write" }, "invalid_scope"],
    ["an unknown prompt value", { prompt: "select_account" }, "invalid_request"],
    ["prompt=none with login (OIDC Core §3.1.2.1)", { prompt: "none login" }, "invalid_request"],
    ["prompt=none with consent", { prompt: "consent none" }, "invalid_request"],
    ["a non-numeric max_age", { max_age: "-1" }, "invalid_request"],
    ["response_mode=fragment", { response_mode: "fragment" }, "invalid_request"],
    ["a resource with a fragment (RFC 8707 §2)", { resource: "https://api.example/#x" }, "invalid_target"],
    ["a relative resource (RFC 8707 §2)", { resource: "/api" }, "invalid_target"],
    ["an http resource off loopback", { resource: "http://api.example/" }, "invalid_target"],
  ];
  it.each(cases)("%s", async (_what, extra, error) => {
    const client = await createTestClient();
    const { url } = await request(client, extra);
    expectErrorRedirect(await get(url, await sessionCookie(DEMO.admin)), client, error);
  });

  it("missing code_challenge → invalid_request (RFC 7636 §4.4.1: PKCE for every client)", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const { url } = await request(client);
    const without = url.replace(/code_challenge=[^&]+&/, "");
    expect(without).not.toMatch(/code_challenge=/);
    expectErrorRedirect(await get(without, await sessionCookie(DEMO.admin)), client, "invalid_request");
  });

  it("missing code_challenge_method → invalid_request (S256 must be explicit; plain is its default)", async () => {
    const client = await createTestClient();
    const { url } = await request(client);
    const without = url.replace(/code_challenge_method=S256&/, "");
    expectErrorRedirect(await get(without, await sessionCookie(DEMO.admin)), client, "invalid_request");
  });

  it("missing response_type → invalid_request (RFC 6749 §4.1.2.1: a required parameter is missing)", async () => {
    const client = await createTestClient();
    const { url } = await request(client);
    const without = url.replace("response_type=code&", "");
    expect(without).not.toContain("response_type");
    expectErrorRedirect(await get(without, await sessionCookie(DEMO.admin)), client, "invalid_request");
  });

  it("a repeated state or scope → invalid_request (RFC 6749 §3.1)", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const base: [string, string][] = [
      ["response_type", "code"],
      ["client_id", client.id],
      ["redirect_uri", client.redirectUri],
      ["code_challenge", challenge],
      ["code_challenge_method", "S256"],
    ];
    const cookie = await sessionCookie(DEMO.admin);
    const states = rawAuthorizeUrl([...base, ["state", "st-123"], ["state", "st-456"]]);
    expectErrorRedirect(await get(states, cookie), client, "invalid_request");
    const scopes = rawAuthorizeUrl([...base, ["state", "st-123"], ["scope", "openid"], ["scope", "email"]]);
    expectErrorRedirect(await get(scopes, cookie), client, "invalid_request");
  });

  it("a client without the authorization_code grant → unauthorized_client", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    await env.DB.prepare(`UPDATE clients SET grant_types = '["client_credentials"]' WHERE id = ?`)
      .bind(client.id)
      .run();
    const { url } = await request(client);
    expectErrorRedirect(await get(url, await sessionCookie(DEMO.admin)), client, "unauthorized_client");
  });

  it("prompt=none without a session → login_required (OIDC Core §3.1.2.6)", async () => {
    const client = await createTestClient();
    const { url } = await request(client, { prompt: "none" });
    expectErrorRedirect(await get(url), client, "login_required");
  });

  it("prompt=none with a session older than max_age → login_required, not a sign-in page", async () => {
    const client = await createTestClient();
    const { url } = await request(client, { prompt: "none", max_age: "60" });
    expectErrorRedirect(await get(url, await sessionCookie(DEMO.admin, now() - 600)), client, "login_required");
  });

  it("prompt=none when consent is needed → consent_required (OIDC Core §3.1.2.6)", async () => {
    const client = await consentClient();
    const { url } = await request(client, { prompt: "none", scope: "openid ir.incidents:read" });
    expectErrorRedirect(await get(url, await sessionCookie(DEMO.admin)), client, "consent_required");
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });

  it("an error without state carries no state, and keeps the registered query (RFC 6749 §4.1.2.1)", async () => {
    const client = await createTestClient({ redirectUri: "https://app.example/cb?tenant=a" });
    const { url } = await request(client, { response_type: "token" });
    const res = await get(url.replace("state=st-123&", "").replace(/&state=st-123$/, ""));
    const location = expectErrorRedirect(res, client, "unsupported_response_type", null);
    expect(location.searchParams.get("tenant")).toBe("a");
  });
});

describe("signing in (OIDC Core §3.1.2.3)", () => {
  it("sends an unauthenticated user to /signin with a same-origin return_to that keeps the request", async () => {
    const client = await createTestClient();
    const { url, verifier } = await request(client, {
      scope: "openid ir.incidents:read",
      nonce: "n-1",
      login_hint: "member@example.com",
    });
    const query = expectSignIn(await get(url));
    expect(query.get("login_hint")).toBe("member@example.com");
    const returnTo = query.get("return_to")!;
    expect(returnTo.startsWith("/oauth/authorize?")).toBe(true);
    const back = new URL(returnTo, ORIGIN);
    expect(back.origin).toBe(ORIGIN);
    const original = new URL(url, ORIGIN).searchParams;
    for (const name of ["client_id", "redirect_uri", "state", "code_challenge", "scope", "nonce", "response_type"])
      expect(back.searchParams.get(name), name).toBe(original.get(name));
    // After signing in, the browser follows return_to and the request completes.
    const code = expectCode(await get(returnTo, await sessionCookie(DEMO.member)), client);
    const tokens = await tokenScope(client, code, verifier);
    expect(decodeJwt(tokens.id_token!).nonce).toBe("n-1");
    expect(decodeJwt(tokens.access_token).sub).toBe(DEMO.member);
  });

  it("prompt=login re-authenticates: old sessions go back to sign-in, a fresh one gets a code", async () => {
    const client = await createTestClient();
    const old = await sessionCookie(DEMO.admin, now() - 60);
    const { url } = await request(client, { prompt: "login" });
    const query = expectSignIn(await get(url, old));
    expect(query.get("prompt")).toBe("login");
    const back = new URL(query.get("return_to")!, ORIGIN);
    const authAfter = Number(back.searchParams.get("auth_after"));
    expect(authAfter).toBeGreaterThanOrEqual(now() - 5);
    expect(back.searchParams.has("prompt")).toBe(false); // no loop
    // The same old session is not good enough for the return trip…
    expectSignIn(await get(`${back.pathname}${back.search}`, old));
    // …a session started after auth_after is.
    const fresh = await sessionCookie(DEMO.admin, authAfter);
    expectCode(await get(`${back.pathname}${back.search}`, fresh), client);
  });

  it("max_age exceeded → re-authentication; a fresh session then gets a code with its auth_time", async () => {
    const client = await createTestClient();
    const { url, verifier } = await request(client, { max_age: "60", scope: "openid" });
    const query = expectSignIn(await get(url, await sessionCookie(DEMO.admin, now() - 120)));
    const returnTo = query.get("return_to")!;
    expect(new URL(returnTo, ORIGIN).searchParams.get("max_age")).toBe("60");
    const authTime = now();
    const code = expectCode(await get(returnTo, await sessionCookie(DEMO.admin, authTime)), client);
    const tokens = await tokenScope(client, code, verifier);
    expect(decodeJwt(tokens.id_token!).auth_time).toBe(authTime);
  });

  it("max_age within the session's age needs no sign-in", async () => {
    const client = await createTestClient();
    const { url } = await request(client, { max_age: "600" });
    expectCode(await get(url, await sessionCookie(DEMO.admin, now() - 120)), client);
  });
});

describe("successful authorization response (RFC 6749 §4.1.2, RFC 9207 §2)", () => {
  it("returns code, the state byte for byte, and iss = the issuer", async () => {
    const client = await createTestClient();
    const state = "a b+c/=&?é%20~!*'()";
    const { url } = await request(client, { state });
    const location = new URL((await get(url, await sessionCookie(DEMO.admin))).headers.get("location")!);
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.get("code")).toBeTruthy();
    expectIss(location);
  });

  it("omits state when none was sent", async () => {
    const client = await createTestClient();
    const { url } = await request(client);
    const res = await get(
      url.replace("state=st-123&", "").replace(/&state=st-123$/, ""),
      await sessionCookie(DEMO.admin),
    );
    expectCode(res, client, null);
  });

  it("never sends two iss (or codes), even when the registered URI already has them", async () => {
    const client = await createTestClient({
      redirectUri: "https://app.example/cb?iss=https%3A%2F%2Fevil.example&code=x",
    });
    const { url } = await request(client);
    const location = new URL((await get(url, await sessionCookie(DEMO.admin))).headers.get("location")!);
    expectIss(location);
    expect(location.searchParams.getAll("code")).toHaveLength(1);
    expect(location.searchParams.get("code")).not.toBe("x");
  });

  it("binds resource into the token audience (RFC 8707 §2)", async () => {
    const client = await createTestClient();
    const { url, verifier } = await request(client, { resource: "https://api.example/mcp" });
    const code = expectCode(await get(url, await sessionCookie(DEMO.admin)), client);
    // With openid granted the token is for UserInfo too: aud = [resource, issuer] (README "Audiences").
    expect(decodeJwt((await tokenScope(client, code, verifier)).access_token).aud).toEqual([
      "https://api.example/mcp",
      ORIGIN,
    ]);
  });

  it("meta scope all means only what the client registered (README: Scopes)", async () => {
    const client = await createTestClient({ scopes: ["openid", "ir.incidents:read", "oc.alerts:read"] });
    const { url, verifier } = await request(client, { scope: "openid all" });
    const code = expectCode(await get(url, await sessionCookie(DEMO.admin)), client);
    expect((await tokenScope(client, code, verifier)).scope.split(" ").sort()).toEqual(
      ["ir.incidents:read", "oc.alerts:read", "openid"].sort(),
    );
    const ir = await request(client, { scope: "ir.all" });
    const irCode = expectCode(await get(ir.url, await sessionCookie(DEMO.admin)), client);
    expect((await tokenScope(client, irCode, ir.verifier)).scope).toBe("ir.incidents:read");
  });

  it("POST with a form body works like GET (OIDC Core §3.1.2.1)", async () => {
    const client = await createTestClient();
    const { url, verifier } = await request(client, { scope: "openid ir.incidents:read" });
    const res = await call("/oauth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: await sessionCookie(DEMO.admin) },
      body: url.slice("/oauth/authorize?".length),
      redirect: "manual",
    });
    const code = expectCode(res, client);
    expect((await tokenScope(client, code, verifier)).scope).toBe("openid ir.incidents:read");
  });
});

// ---- consent ------------------------------------------------------------------------------------------

describe("consent page (RFC 6749 §4.1.1 step 2)", () => {
  it("shows the escaped client name, the redirect host and each scope in plain words", async () => {
    const client = await consentClient({ redirectUri: "https://cb.app.example/return" });
    await env.DB.prepare("UPDATE clients SET name = ? WHERE id = ?").bind("<script>alert(1)</script>", client.id).run();
    const { url } = await request(client, { scope: "openid email ir.incidents:read oc.alerts:read" });
    const res = await get(url, await sessionCookie(DEMO.admin));
    const form = await consentForm(res);
    expect(form.html).not.toContain("<script>alert(1)</script>");
    expect(form.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(form.html).toContain("cb.app.example");
    for (const words of ["Confirm who you are", "See your email address", "View incident response incidents"])
      expect(form.html).toContain(words);
    expect(form.html).toContain("View on-call alerts");
    expect(form.scopes.map((s) => s.scope).sort()).toEqual(["email", "ir.incidents:read", "oc.alerts:read", "openid"]);
    expect(form.scopes.every((s) => s.checked && !s.disabled)).toBe(true);
    // CSP form-action must let the post-consent redirect reach the client.
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://cb.app.example");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });

  it("marks scopes an observer's role cannot grant, and never grants them even if posted", async () => {
    const client = await consentClient();
    const { url, verifier } = await request(client, { scope: "ir.incidents:read ir.incidents:write" });
    const session = await sessionCookie(DEMO.observer);
    const form = await consentForm(await get(url, session));
    // The write scope is not offered at all; its area names it once, with the role that decides.
    expect(form.scopes).toEqual([{ scope: "ir.incidents:read", checked: true, disabled: false }]);
    expect(form.areas).toEqual(["ir"]);
    expect(form.html).toContain("Your incident response role (observer) cannot change incidents");
    // A hand-crafted post ticking the unoffered scope gets only what the role allows.
    const code = expectCode(
      await decide(session, form, "approve", ["ir.incidents:read", "ir.incidents:write"]),
      client,
    );
    expect((await tokenScope(client, code, verifier)).scope).toBe("ir.incidents:read");
    expect(await consentsOf(DEMO.observer, client.id)).toEqual(["ir.incidents:read"]);
  });

  it("approve with a subset of the boxes → a code whose token has only the ticked scopes", async () => {
    const client = await consentClient();
    const { url, verifier } = await request(client, {
      scope: "openid ir.incidents:read ir.incidents:write oc.alerts:read",
    });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    const res = await decide(session, form, "approve", ["openid", "oc.alerts:read"]);
    const code = expectCode(res, client);
    expect((await tokenScope(client, code, verifier)).scope).toBe("openid oc.alerts:read");
    expect((await consentsOf(DEMO.admin, client.id))?.sort()).toEqual(["oc.alerts:read", "openid"]);
    expect(await auditKinds(client.id)).toContain("consent.granted");
  });

  it("an unticked area switch refuses the whole area even with its rows still ticked (no JavaScript)", async () => {
    const client = await consentClient();
    const { url, verifier } = await request(client, {
      scope: "openid ir.incidents:read ir.incidents:write oc.alerts:read",
    });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    expect(form.areas).toEqual(["signin", "ir", "oc"]);
    // Every row box still ticked, as a browser without script leaves them; the ir switch is off.
    const every = form.scopes.map((s) => s.scope);
    const res = await decide(session, form, "approve", every, { areas: ["signin", "oc"] });
    const code = expectCode(res, client);
    expect((await tokenScope(client, code, verifier)).scope).toBe("openid oc.alerts:read");
    expect((await consentsOf(DEMO.admin, client.id))?.sort()).toEqual(["oc.alerts:read", "openid"]);
  });

  it("a box that was never requested cannot be smuggled in by the form", async () => {
    const client = await consentClient();
    const { url, verifier } = await request(client, { scope: "ir.incidents:read" });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    const code = expectCode(
      await decide(session, form, "approve", ["ir.incidents:read", "ir.incidents:write"]),
      client,
    );
    expect((await tokenScope(client, code, verifier)).scope).toBe("ir.incidents:read");
  });

  it("approving with no box ticked → access_denied, no code", async () => {
    const client = await consentClient();
    const { url } = await request(client, { scope: "ir.incidents:read" });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    expectErrorRedirect(await decide(session, form, "approve", []), client, "access_denied");
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });

  it("deny → access_denied with state and iss, and a consent.denied audit event (RFC 6749 §4.1.2.1)", async () => {
    const client = await consentClient();
    const { url } = await request(client, { scope: "openid ir.incidents:read" });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    expectErrorRedirect(await decide(session, form, "deny", ["openid", "ir.incidents:read"]), client, "access_denied");
    expect(await auditKinds(client.id)).toEqual(["consent.denied"]);
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });

  it.each([
    ["no hidden csrf", { csrf: null }],
    ["a wrong hidden csrf", { csrf: "A".repeat(43) }],
    ["no csrf cookie", { cookie: null }],
    ["a csrf cookie of another browser", { cookie: `eoidc_csrf=${"B".repeat(43)}` }],
    ["a cross-site Origin", { origin: "https://evil.example" }],
  ] as const)("refuses the decision with %s: 403 page, no code, nothing stored", async (_what, tamper) => {
    const client = await consentClient();
    const { url } = await request(client, { scope: "ir.incidents:read" });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    await expectPage(await decide(session, form, "approve", ["ir.incidents:read"], tamper), 403);
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
    expect(await auditKinds(client.id)).toEqual([]);
  });

  it("re-checks the request on decision: a tampered redirect_uri gets a page, not a redirect", async () => {
    const client = await consentClient();
    const { url } = await request(client, { scope: "ir.incidents:read" });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    const res = await decide(session, form, "approve", ["ir.incidents:read"], {
      fields: { redirect_uri: "https://evil.example/cb" },
    });
    await expectErrorPage(res);
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });

  it("a decision without a session goes to sign-in, not to the client", async () => {
    const client = await consentClient();
    const { url } = await request(client, { scope: "ir.incidents:read" });
    const form = await consentForm(await get(url, await sessionCookie(DEMO.admin)));
    expectSignIn(await decide("", form, "approve", ["ir.incidents:read"]));
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });

  it("consent accumulates: same scopes skip the page unless prompt=consent; a new scope asks again", async () => {
    const client = await consentClient();
    const session = await sessionCookie(DEMO.member);
    const first = await request(client, { scope: "openid ir.incidents:read" });
    const form = await consentForm(await get(first.url, session));
    expectCode(await decide(session, form, "approve", ["openid", "ir.incidents:read"]), client);

    const again = await request(client, { scope: "openid ir.incidents:read", state: "st-2" });
    const code = expectCode(await get(again.url, session), client, "st-2");
    expect((await tokenScope(client, code, again.verifier)).scope).toBe("openid ir.incidents:read");
    // A subset of what was approved needs no page either.
    expectCode(await get((await request(client, { scope: "ir.incidents:read" })).url, session), client);

    const forced = await request(client, { scope: "openid ir.incidents:read", prompt: "consent" });
    await consentForm(await get(forced.url, session));

    // Incremental: one more scope shows the page, with the earlier ones marked as allowed before.
    const more = await request(client, { scope: "openid ir.incidents:read ir.incidents:write" });
    const moreForm = await consentForm(await get(more.url, session));
    expect(moreForm.html).toContain("allowed before");
    const moreCode = expectCode(
      await decide(session, moreForm, "approve", ["openid", "ir.incidents:read", "ir.incidents:write"]),
      client,
    );
    expect((await tokenScope(client, moreCode, more.verifier)).scope).toBe(
      "openid ir.incidents:read ir.incidents:write",
    );
    expect((await consentsOf(DEMO.member, client.id))?.sort()).toEqual([
      "ir.incidents:read",
      "ir.incidents:write",
      "openid",
    ]);
  });

  it("prompt=none after consent was given → a code, no page", async () => {
    const client = await consentClient();
    const session = await sessionCookie(DEMO.admin);
    const first = await request(client, { scope: "ir.incidents:read" });
    expectCode(
      await decide(session, await consentForm(await get(first.url, session)), "approve", ["ir.incidents:read"]),
      client,
    );
    expectCode(await get((await request(client, { scope: "ir.incidents:read", prompt: "none" })).url, session), client);
  });

  it("consent is per user: another user of the same team is asked again", async () => {
    const client = await consentClient();
    const admin = await sessionCookie(DEMO.admin);
    const first = await request(client, { scope: "ir.incidents:read" });
    expectCode(
      await decide(admin, await consentForm(await get(first.url, admin)), "approve", ["ir.incidents:read"]),
      client,
    );
    await consentForm(
      await get((await request(client, { scope: "ir.incidents:read" })).url, await sessionCookie(DEMO.member)),
    );
  });

  it("automatic consent never issues a code without any scope the user's role can grant", async () => {
    const client = await createTestClient({ automaticConsent: true });
    const { url } = await request(client, { scope: "ir.incidents:write" });
    expectErrorRedirect(await get(url, await sessionCookie(DEMO.observer)), client, "access_denied");
  });

  it("automatic consent skips the page; prompt=consent still shows it", async () => {
    const client = await createTestClient({ automaticConsent: true });
    const { url, verifier } = await request(client, { scope: "openid ir.incidents:read" });
    const code = expectCode(await get(url, await sessionCookie(DEMO.member)), client);
    expect((await tokenScope(client, code, verifier)).scope).toBe("openid ir.incidents:read");
    const forced = await request(client, { scope: "openid", prompt: "consent" });
    await consentForm(await get(forced.url, await sessionCookie(DEMO.member)));
  });
});

// ---- the team of a self-registered client -------------------------------------------------------------

describe("a registered client's team is fixed by its first user (README 'MCP clients and resource servers')", () => {
  async function otherTeamUser(): Promise<string> {
    const suffix = crypto.randomUUID().slice(0, 8);
    const team = `team_other_${suffix}`;
    const user = `usr_other_${suffix}`;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO teams (id, name) VALUES (?, ?)").bind(team, "Other"),
      env.DB.prepare("INSERT INTO users (id, kind, email, name) VALUES (?, 'human', ?, 'Other Admin')").bind(
        user,
        `admin-${suffix}@other.example`,
      ),
      env.DB.prepare(
        "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES (?, ?, 'admin', 'admin')",
      ).bind(user, team),
    ]);
    return user;
  }

  const teamOfClient = async (id: string) =>
    (await env.DB.prepare("SELECT team_id FROM clients WHERE id = ?").bind(id).first<{ team_id: string | null }>())
      ?.team_id;

  it("binds on the first approval; then a user of another team gets access_denied and no consent page", async () => {
    const client = await consentClient({ teamId: null });
    const other = await otherTeamUser();
    expect(await teamOfClient(client.id)).toBeNull();
    const session = await sessionCookie(DEMO.member);
    const { url } = await request(client, { scope: "ir.incidents:read" });
    expectCode(
      await decide(session, await consentForm(await get(url, session)), "approve", ["ir.incidents:read"]),
      client,
    );
    expect(await teamOfClient(client.id)).toBe(DEMO.team);

    const foreign = await request(client, { scope: "ir.incidents:read" });
    expectErrorRedirect(await get(foreign.url, await sessionCookie(other)), client, "access_denied");
    expect(await consentsOf(other, client.id)).toBeNull();
    expect(await teamOfClient(client.id)).toBe(DEMO.team);
  });

  it("binds with automatic consent too, and the other team's user is refused", async () => {
    const client = await createTestClient({ teamId: null, automaticConsent: true });
    const other = await otherTeamUser();
    const { url, verifier } = await request(client, { scope: "openid profile" });
    const code = expectCode(await get(url, await sessionCookie(other)), client);
    expect(decodeJwt((await tokenScope(client, code, verifier)).access_token).team_id).toBe(
      await teamOfClient(client.id),
    );
    expect(await teamOfClient(client.id)).not.toBe(DEMO.team);
    const demo = await request(client);
    expectErrorRedirect(await get(demo.url, await sessionCookie(DEMO.admin)), client, "access_denied");
  });

  it("a person in two teams binds it to their oldest membership's team, whichever team sorts first", async () => {
    const user = await otherTeamUser();
    const other = (await env.DB.prepare("SELECT team_id FROM memberships WHERE user_id = ?").bind(user).first())!
      .team_id as string;
    // team_demo sorts before team_other_…; the person joined it later.
    await env.DB.batch([
      env.DB.prepare("UPDATE memberships SET created_at = 1000 WHERE user_id = ?").bind(user),
      env.DB.prepare(
        "INSERT INTO memberships (user_id, team_id, role, on_call_role, created_at) VALUES (?, ?, 'member', 'none', 2000)",
      ).bind(user, DEMO.team),
    ]);
    const client = await createTestClient({ teamId: null, automaticConsent: true });
    expectCode(await get((await request(client, { scope: "openid" })).url, await sessionCookie(user)), client);
    expect(await teamOfClient(client.id)).toBe(other);
  });

  it("a decision posted by a user of another team is refused and records no consent", async () => {
    const client = await consentClient({ teamId: null });
    const other = await otherTeamUser();
    const session = await sessionCookie(DEMO.admin);
    const first = await request(client, { scope: "ir.incidents:read" });
    const form = await consentForm(await get(first.url, session));
    // Someone else binds the client first (here: an admin of another team approving right now).
    const otherSession = await sessionCookie(other);
    const second = await request(client, { scope: "ir.incidents:read" });
    expectCode(
      await decide(otherSession, await consentForm(await get(second.url, otherSession)), "approve", [
        "ir.incidents:read",
      ]),
      client,
    );
    expectErrorRedirect(await decide(session, form, "approve", ["ir.incidents:read"]), client, "access_denied");
    expect(await consentsOf(DEMO.admin, client.id)).toBeNull();
  });
});

// ---- hostile input ------------------------------------------------------------------------------------

describe("hostile input (RFC 9700 §4.1, §4.11; docs/security.md 'Hostile input')", () => {
  it.each([
    "https://evil.example/cb",
    "//evil.example",
    "//evil.example/callback",
    "https://app.example.evil.example/callback",
    "https://app.example/callback/../x",
    "https://app.example/callback/x",
    "https://app.example/callback?x=1",
    "https://app.example/callback#x",
    "https://app.example@evil.example/callback",
    "https://APP.example/callback",
    "https://app.example/Callback",
    "https://app.example/callback/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://app.example/callback\u0000",
    "https://app.example/callback\r\nLocation: https://evil.example",
    " https://app.example/callback",
    "",
  ])("open redirect attempt %j → a page, never a Location", async (redirectUri) => {
    const client = await createTestClient();
    const { url } = await request(client, { redirect_uri: redirectUri });
    const html = await expectErrorPage(await get(url, await sessionCookie(DEMO.admin)));
    expect(html).not.toContain("<script>alert(1)</script>");
  });

  it("a 100 KB state or scope → an error, never a 500 (and never reflected into a 100 KB Location)", async () => {
    const client = await createTestClient();
    const cookie = await sessionCookie(DEMO.admin);
    const cases: [Record<string, string>, string | null][] = [
      [{ state: "s".repeat(100_000) }, null],
      [{ scope: `openid ${"x".repeat(100_000)}` }, "st-123"],
    ];
    for (const [extra, state] of cases) {
      const res = await get((await request(client, extra)).url, cookie);
      expect(res.headers.get("location")!.length).toBeLessThan(10_000);
      expectErrorRedirect(res, client, "invalid_request", state);
    }
  });

  it("a 100 KB client_id or redirect_uri → a page", async () => {
    const client = await createTestClient();
    const cookie = await sessionCookie(DEMO.admin);
    await expectErrorPage(await get((await request({ ...client, id: "c".repeat(100_000) })).url, cookie));
    const long = `${client.redirectUri}?${"r".repeat(100_000)}`;
    await expectErrorPage(await get((await request(client, { redirect_uri: long })).url, cookie));
  });

  it("XSS in state is never reflected raw into HTML (consent page, sign-in page, error page)", async () => {
    const xss = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
    const client = await consentClient();
    const { url } = await request(client, { state: xss, scope: "ir.incidents:read" });
    const session = await sessionCookie(DEMO.admin);
    const form = await consentForm(await get(url, session));
    expect(form.html).not.toContain("<script>alert(1)</script>");
    expect(form.html).not.toContain("<img src=x");
    // It round-trips intact through the form to the client.
    expect(form.hidden.find(([n]) => n === "state")?.[1]).toBe(xss);
    expectCode(await decide(session, form, "approve", ["ir.incidents:read"]), client, xss);

    const bad = await request(client, { state: xss, redirect_uri: "https://evil.example/" });
    expect(await expectErrorPage(await get(bad.url, session))).not.toContain("<script>");
    const signin = expectSignIn(await get(url));
    const page = await call(`/signin?${signin}`);
    expect(await page.text()).not.toContain("<script>alert(1)</script>");
  });

  it("control characters in state are encoded, never split the Location header", async () => {
    const client = await createTestClient();
    const state = "a\r\nSet-Cookie: x=1\u0000\u001b[31m";
    const res = await get((await request(client, { state })).url, await sessionCookie(DEMO.admin));
    const location = res.headers.get("location")!;
    expect(location).not.toMatch(/[\r\n\u0000]/);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(new URL(location).searchParams.get("state")).toBe(state);
  });

  it("control characters in client_id → a page", async () => {
    const client = await createTestClient();
    const { url } = await request({ ...client, id: `${client.id}\u0000` });
    await expectErrorPage(await get(url, await sessionCookie(DEMO.admin)));
  });

  it("POST with a JSON body → an error page, not a 500", async () => {
    const client = await createTestClient();
    const { challenge } = await pkcePair();
    const res = await call("/oauth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/json", Cookie: await sessionCookie(DEMO.admin) },
      body: JSON.stringify({
        response_type: "code",
        client_id: client.id,
        redirect_uri: client.redirectUri,
        code_challenge: challenge,
        code_challenge_method: "S256",
      }),
      redirect: "manual",
    });
    await expectErrorPage(res);
  });

  it("an oversized or malformed POST body → a 4xx, not a 500", async () => {
    const big = await call("/oauth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `state=${"a".repeat(40_000)}`,
      redirect: "manual",
    });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
    const broken = await call("/oauth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new Uint8Array([0x63, 0x6c, 0x69, 0xff, 0xfe, 0x3d, 0x80]),
      redirect: "manual",
    });
    expect(broken.status).toBeGreaterThanOrEqual(400);
    expect(broken.status).toBeLessThan(500);
    const decision = await call("/oauth/authorize/decision", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `csrf=${"a".repeat(40_000)}`,
      redirect: "manual",
    });
    expect(decision.status).toBeGreaterThanOrEqual(400);
    expect(decision.status).toBeLessThan(500);
  });

  it("/oauth/authorize never answers CORS", async () => {
    const client = await createTestClient();
    const res = await call((await request(client)).url, {
      headers: { Origin: "https://evil.example", Cookie: await sessionCookie(DEMO.admin) },
      redirect: "manual",
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
