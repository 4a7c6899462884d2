/**
 * OpenID Connect RP-Initiated Logout 1.0: end_session_endpoint (§2.1), its parameters (§2), the
 * exact-match post_logout_redirect_uris (§3.1) registered through RFC 7591 and the admin API, the
 * confirmation when the request is not verifiably from the app holding the session (§3), and the
 * redirect with state (§3).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEVICE_CODE_GRANT_TYPE } from "../src/oauth/grant-types";
import { sha256 } from "../src/tokens/secrets";
import { call, ORIGIN } from "./helpers";
import { createTestClient, DEMO, exchangeCode, obtainCode, sessionCookie, type TestClient } from "./oauth-helpers";

const LOGGED_OUT = "https://app.example/logged-out";
const CSRF = "d".repeat(43);
const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";

async function idTokenFor(client: TestClient, userId: string): Promise<string> {
  const { code, verifier } = await obtainCode(client, userId);
  const tokens = (await (await exchangeCode(client, code, verifier)).json()) as { id_token: string };
  return tokens.id_token;
}

async function sessionAlive(cookie: string): Promise<boolean> {
  const value = cookie.split(";")[0]!.slice("eoidc_session=".length);
  const row = await env.DB.prepare("SELECT 1 AS x FROM sessions WHERE id_hash = ?")
    .bind(await sha256(value))
    .first();
  return row !== null;
}

function endSession(params: Record<string, string>, cookie?: string, method: "GET" | "POST" = "GET") {
  const query = new URLSearchParams(params);
  const headers: Record<string, string> = { Origin: ORIGIN };
  if (cookie) headers.Cookie = cookie;
  if (method === "GET") return call(`/oauth/end_session?${query}`, { headers, redirect: "manual" });
  headers["Content-Type"] = "application/x-www-form-urlencoded";
  return call("/oauth/end_session", { method: "POST", headers, body: query, redirect: "manual" });
}

async function logoutClient() {
  // Registers every scope obtainCode asks for: OIDC scopes too must be registered (README "Scopes").
  return createTestClient({
    postLogoutRedirectUris: [LOGGED_OUT],
    scopes: ["openid", "profile", "email", "ir.incidents:read"],
  });
}

describe("end_session_endpoint (RP-Initiated Logout 1.0 §2)", () => {
  it("is advertised in the OpenID configuration (§2.1)", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.end_session_endpoint).toBe(`${ORIGIN}/oauth/end_session`);
  });

  for (const method of ["GET", "POST"] as const) {
    it(`${method}: a valid id_token_hint of the signed-in person ends the session and redirects with state`, async () => {
      const client = await logoutClient();
      const idToken = await idTokenFor(client, DEMO.admin);
      const cookie = await sessionCookie(DEMO.admin);
      const res = await endSession(
        { id_token_hint: idToken, post_logout_redirect_uri: LOGGED_OUT, state: "s t&1" },
        cookie,
        method,
      );
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(`${LOGGED_OUT}?state=s+t%261`);
      expect(await sessionAlive(cookie)).toBe(false);
      expect(res.headers.getSetCookie().some((c) => /^eoidc_session=;/.test(c))).toBe(true);
      const audit = await env.DB.prepare(
        "SELECT detail FROM audit_events WHERE kind = 'signout' AND client_id = ? AND actor_user_id = ?",
      )
        .bind(client.id, DEMO.admin)
        .first<{ detail: string }>();
      expect(JSON.parse(audit!.detail)).toEqual({ via: "rp_initiated_logout" });
    });
  }

  it("without post_logout_redirect_uri: the session ends and the signed-out page is shown", async () => {
    const client = await logoutClient();
    const cookie = await sessionCookie(DEMO.member);
    const res = await endSession({ id_token_hint: await idTokenFor(client, DEMO.member) }, cookie);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("You are signed out");
    expect(await sessionAlive(cookie)).toBe(false);
  });

  it("an unregistered post_logout_redirect_uri is refused on a page, never redirected, and the session stays (§3.1)", async () => {
    const client = await logoutClient();
    const idToken = await idTokenFor(client, DEMO.admin);
    const cookie = await sessionCookie(DEMO.admin);
    for (const uri of [`${LOGGED_OUT}/other`, `${LOGGED_OUT}?x=1`, "https://evil.example/", LOGGED_OUT.toUpperCase()]) {
      const res = await endSession({ id_token_hint: idToken, post_logout_redirect_uri: uri }, cookie);
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("not registered");
    }
    // Another app's registered URI is not this app's.
    const other = await createTestClient({ postLogoutRedirectUris: ["https://other.example/bye"] });
    const res = await endSession(
      { id_token_hint: idToken, post_logout_redirect_uri: "https://other.example/bye" },
      cookie,
    );
    expect(res.status).toBe(400);
    expect(other.id).not.toBe(client.id);
    expect(await sessionAlive(cookie)).toBe(true);
  });

  it("post_logout_redirect_uri without client_id or id_token_hint is refused (§2)", async () => {
    const res = await endSession({ post_logout_redirect_uri: LOGGED_OUT }, await sessionCookie(DEMO.admin));
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });

  it("client_id that is not the ID token's audience is refused (§2)", async () => {
    const client = await logoutClient();
    const other = await logoutClient();
    const res = await endSession({
      id_token_hint: await idTokenFor(client, DEMO.admin),
      client_id: other.id,
      post_logout_redirect_uri: LOGGED_OUT,
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("not an ID token this server issued to this app");
  });

  it("refuses a forged id_token_hint, an access token as hint, an unknown client and repeated parameters", async () => {
    const client = await logoutClient();
    const { code, verifier } = await obtainCode(client, DEMO.admin);
    const tokens = (await (await exchangeCode(client, code, verifier)).json()) as Record<string, string>;
    const [h, p] = tokens.id_token!.split(".");
    const forged = `${h}.${p}.${"A".repeat(86)}`;
    for (const hint of [forged, tokens.access_token!, "garbage"]) {
      expect((await endSession({ id_token_hint: hint })).status).toBe(400);
    }
    expect((await endSession({ client_id: "no-such-client" })).status).toBe(400);
    const repeated = await call(`/oauth/end_session?state=a&state=b`, { redirect: "manual" });
    expect(repeated.status).toBe(400);
    const huge = await endSession({ id_token_hint: "x".repeat(20_000) });
    expect(huge.status).toBe(400);
    const longState = await endSession({
      client_id: client.id,
      post_logout_redirect_uri: LOGGED_OUT,
      state: "s".repeat(3000),
    });
    expect(longState.status).toBe(400);
    expect(longState.headers.get("location")).toBeNull();
  });

  it("no session: nothing to end, straight back to the registered URI with state", async () => {
    const client = await logoutClient();
    const res = await endSession({ client_id: client.id, post_logout_redirect_uri: LOGGED_OUT, state: "abc" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${LOGGED_OUT}?state=abc`);
  });
});

describe("confirmation when the request is not verifiable (§3)", () => {
  async function confirmForm(params: Record<string, string>, cookie: string) {
    const res = await endSession(params, cookie);
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain("Sign out?");
    const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
      (m) => [m[1]!, m[2]!.replaceAll("&amp;", "&")] as [string, string],
    );
    return { res, html, hidden };
  }

  it("client_id alone: asks first; the confirmation needs the CSRF token; then it signs out and redirects", async () => {
    const client = await logoutClient();
    const cookie = `${await sessionCookie(DEMO.admin)}; eoidc_csrf=${CSRF}`;
    const { res, html, hidden } = await confirmForm(
      { client_id: client.id, post_logout_redirect_uri: LOGGED_OUT, state: "st" },
      cookie,
    );
    expect(html).toContain("Test App");
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://app.example");
    expect(await sessionAlive(cookie)).toBe(true);

    const post = (fields: [string, string][]) =>
      call("/oauth/end_session", {
        method: "POST",
        headers: { Cookie: cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields),
        redirect: "manual",
      });
    const withoutCsrf = hidden.filter(([n]) => n !== "csrf");
    expect((await post([...withoutCsrf, ["confirm", "yes"]])).status).toBe(403);
    expect((await post([...withoutCsrf, ["csrf", "e".repeat(43)], ["confirm", "yes"]])).status).toBe(403);
    expect(await sessionAlive(cookie)).toBe(true);

    const done = await post([...hidden, ["confirm", "yes"]]);
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${LOGGED_OUT}?state=st`);
    expect(await sessionAlive(cookie)).toBe(false);
  });

  it("an id_token_hint of another person asks first (§3)", async () => {
    const client = await logoutClient();
    const cookie = await sessionCookie(DEMO.admin);
    await confirmForm({ id_token_hint: await idTokenFor(client, DEMO.member) }, cookie);
    expect(await sessionAlive(cookie)).toBe(true);
  });

  it("a logout_hint that names someone else asks first; one that names the person does not", async () => {
    const client = await logoutClient();
    const idToken = await idTokenFor(client, DEMO.admin);
    const cookie = await sessionCookie(DEMO.admin);
    await confirmForm({ id_token_hint: idToken, logout_hint: "member@example.com" }, cookie);
    expect(await sessionAlive(cookie)).toBe(true);
    const res = await endSession({ id_token_hint: idToken, logout_hint: "ADMIN@example.com" }, cookie);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("You are signed out");
    expect(await sessionAlive(cookie)).toBe(false);
  });

  it("no parameters at all: asks first, then shows the signed-out page", async () => {
    const cookie = await sessionCookie(DEMO.observer);
    const { html } = await confirmForm({}, cookie);
    expect(html).toContain("An app asks to sign you out");
  });
});

describe("registering post_logout_redirect_uris and the device grant (§3.1, RFC 7591, RFC 8628 §4)", () => {
  const register = (body: unknown, ip: string) =>
    call("/oauth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
      body: JSON.stringify(body),
    });

  it("registration stores and echoes post_logout_redirect_uris; bad ones are invalid_redirect_uri", async () => {
    const ok = await register(
      { redirect_uris: ["https://rp.example/cb"], post_logout_redirect_uris: ["https://rp.example/bye"] },
      "192.0.2.201",
    );
    const body = (await ok.json()) as Record<string, unknown>;
    expect(ok.status).toBe(201);
    expect(body.post_logout_redirect_uris).toEqual(["https://rp.example/bye"]);
    for (const bad of [["http://rp.example/bye"], ["https://rp.example/bye#x"], "https://rp.example/bye", [7]]) {
      const res = await register(
        { redirect_uris: ["https://rp.example/cb"], post_logout_redirect_uris: bad },
        "192.0.2.202",
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_redirect_uri");
    }
  });

  it("a device-only client registers without redirect URIs (RFC 8628 §4, RFC 7591 §2)", async () => {
    const res = await register(
      {
        grant_types: [DEVICE_CODE_GRANT_TYPE, "refresh_token"],
        token_endpoint_auth_method: "none",
        client_name: "CLI",
      },
      "192.0.2.203",
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.grant_types).toEqual([DEVICE_CODE_GRANT_TYPE, "refresh_token"]);
    expect(body.redirect_uris).toEqual([]);
    expect(body.response_types).toEqual([]);
    const unsupported = await register({ grant_types: ["urn:ietf:params:oauth:grant-type:nope"] }, "192.0.2.204");
    expect(unsupported.status).toBe(400);
  });

  it("the admin API creates and edits both (one rule for every surface)", async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      call(`/api/admin${path}`, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await admin("POST", "/apps", {
      team_id: DEMO.team,
      name: "TV app",
      type: "public",
      grant_types: [DEVICE_CODE_GRANT_TYPE],
      post_logout_redirect_uris: ["https://tv.example/bye"],
    });
    const app = (await created.json()) as Record<string, unknown>;
    expect(created.status, JSON.stringify(app)).toBe(201);
    expect(app.grant_types).toEqual([DEVICE_CODE_GRANT_TYPE]);
    expect(app.post_logout_redirect_uris).toEqual(["https://tv.example/bye"]);
    // Turning on the code flow needs redirect URIs.
    const missing = await admin("PATCH", `/apps/${app.client_id}`, { grant_types: ["authorization_code"] });
    expect(missing.status).toBe(400);
    const patched = await admin("PATCH", `/apps/${app.client_id}`, {
      grant_types: ["authorization_code", DEVICE_CODE_GRANT_TYPE],
      redirect_uris: ["https://tv.example/cb"],
      post_logout_redirect_uris: ["http://127.0.0.1/bye"],
    });
    const after = (await patched.json()) as Record<string, unknown>;
    expect(patched.status, JSON.stringify(after)).toBe(200);
    expect(after.post_logout_redirect_uris).toEqual(["http://127.0.0.1/bye"]);
    const bad = await admin("PATCH", `/apps/${app.client_id}`, { post_logout_redirect_uris: ["ftp://x.example/"] });
    expect(bad.status).toBe(400);
    const cc = await admin("POST", "/apps", {
      team_id: DEMO.team,
      name: "Bot",
      type: "client_credentials",
      scope: "ir.incidents:read",
      grant_types: [DEVICE_CODE_GRANT_TYPE],
    });
    expect(cc.status).toBe(400);
  });
});
