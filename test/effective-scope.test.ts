/**
 * Effective scope = granted ∩ the app's current scopes ∩ the holder's current role ceiling, at every
 * point that issues or reports a scope (README "Scopes"): authorization, code exchange, refresh,
 * introspection and UserInfo. Also: meta scopes resent on refresh (RFC 6749 §6) and redirect_uri at
 * the token endpoint only when the authorization request had it (RFC 6749 §4.1.3).
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import {
  authorizeUrl,
  createTestClient,
  DEMO,
  exchangeCode,
  obtainCode,
  pkcePair,
  sessionCookie,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";
type Tokens = { access_token: string; refresh_token?: string; scope: string; id_token?: string };

async function ok(res: Response): Promise<Tokens> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Tokens;
}

/** An app a team admin created through the JSON API (so the team may later narrow its scope). */
async function adminApp(scope: string): Promise<TestClient> {
  const res = await call("/api/admin/apps", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      name: "Narrowed",
      type: "public",
      redirect_uris: ["https://narrowed.example/cb"],
      scope,
      automatic_consent: true,
      team_id: DEMO.team,
    }),
  });
  expect(res.status).toBe(201);
  const app = (await res.json()) as { client_id: string };
  return { id: app.client_id, redirectUri: "https://narrowed.example/cb", method: "none" };
}

async function narrowApp(client: TestClient, scope: string): Promise<void> {
  const res = await call(`/api/admin/apps/${client.id}`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ scope }),
  });
  expect(res.status).toBe(200);
}

async function introspect(client: TestClient, token: string) {
  const res = await call("/oauth/introspect", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, client_id: client.id }),
  });
  return (await res.json()) as { active: boolean; scope?: string; email?: string };
}

const userinfo = async (token: string) =>
  (await call("/oauth/userinfo", { headers: { Authorization: `Bearer ${token}` } })).json() as Promise<
    Record<string, unknown>
  >;

const refresh = (client: TestClient, token: string, extra: Record<string, string> = {}) =>
  tokenRequest(client, { grant_type: "refresh_token", refresh_token: token, ...extra });

describe("narrowing an app's scope takes effect at once, for people's tokens too", () => {
  const FULL = "openid email offline_access ir.incidents:read ir.incidents:write";
  const NARROW = "openid offline_access ir.incidents:read";

  it("refresh, introspection and UserInfo stop reporting a removed scope (email, ir.incidents:write)", async () => {
    const client = await adminApp(FULL);
    const { code, verifier } = await obtainCode(client, DEMO.admin, { scope: FULL });
    const first = await ok(await exchangeCode(client, code, verifier));
    expect(first.scope).toBe(FULL);
    expect(await userinfo(first.access_token)).toMatchObject({ email: "admin@example.com" });

    await narrowApp(client, NARROW);
    const status = await introspect(client, first.access_token);
    expect(status).toMatchObject({ active: true, scope: NARROW });
    expect(status.email).toBeUndefined();
    expect(await userinfo(first.access_token)).not.toHaveProperty("email");
    const next = await ok(await refresh(client, first.refresh_token!));
    expect(next.scope).toBe(NARROW);
    expect(decodeJwt(next.access_token).scope).toBe(NARROW);
    expect((await introspect(client, next.refresh_token!)).scope).toBe(NARROW);
  });

  it("a code issued before the app was narrowed is exchanged for the narrowed scope only", async () => {
    const client = await adminApp(FULL);
    const { code, verifier } = await obtainCode(client, DEMO.admin, { scope: FULL, nonce: "n" });
    await narrowApp(client, NARROW);
    const tokens = await ok(await exchangeCode(client, code, verifier));
    expect(tokens.scope).toBe(NARROW);
    expect(decodeJwt(tokens.id_token!)).not.toHaveProperty("email");
  });

  it("the OIDC scopes are grantable only when the app's scope lists them", async () => {
    const client = await adminApp("openid ir.incidents:read");
    const { challenge } = await pkcePair();
    const cookie = await sessionCookie(DEMO.admin);
    const asked = await call(authorizeUrl(client, challenge, { scope: "openid profile email ir.incidents:read" }), {
      headers: { Cookie: cookie },
      redirect: "manual",
    });
    const refused = new URL(asked.headers.get("location")!);
    expect(refused.searchParams.get("error")).toBe("invalid_scope");
    expect(refused.searchParams.get("code")).toBeNull();
    const { code, verifier } = await obtainCode(client, DEMO.admin, { scope: "openid ir.incidents:read" });
    expect((await ok(await exchangeCode(client, code, verifier))).scope).toBe("openid ir.incidents:read");
    // Without scope, the request means the app's scopes: still no profile or email.
    const all = await obtainCode(client, DEMO.admin, { scope: "" });
    expect((await ok(await exchangeCode(client, all.code, all.verifier))).scope).toBe("openid ir.incidents:read");
  });

  it("a registered client without scope keeps every OIDC and granular scope (RFC 7591 §2)", async () => {
    const res = await call("/oauth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.91" },
      body: JSON.stringify({ redirect_uris: ["https://dcr.example/cb"], token_endpoint_auth_method: "none" }),
    });
    const registered = (await res.json()) as { client_id: string; scope: string };
    expect(registered.scope.split(" ")).toEqual(
      expect.arrayContaining(["openid", "profile", "email", "offline_access"]),
    );
    const client: TestClient = { id: registered.client_id, redirectUri: "https://dcr.example/cb", method: "none" };
    const { challenge } = await pkcePair();
    const page = await call(authorizeUrl(client, challenge, { scope: "openid profile email ir.all" }), {
      headers: { Cookie: await sessionCookie(DEMO.admin) },
    });
    // The consent page offers every requested OIDC scope and what ir.all stands for.
    const html = await page.text();
    for (const scope of ["openid", "profile", "email", "ir.services:write"]) {
      expect(html).toContain(`name="scope" value="${scope}"`);
    }
  });
});

describe("meta scopes resent on refresh are expanded against the grant (RFC 6749 §6)", () => {
  it("openid offline_access ir.all → what the grant holds within ir.all, never more", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.admin, {
      scope: "openid offline_access ir.incidents:read oc.alerts:read",
    });
    const first = await ok(await exchangeCode(client, code, verifier));
    const next = await ok(await refresh(client, first.refresh_token!, { scope: "openid offline_access ir.all" }));
    // ir.incidents:write is registered and within ir.all but was never granted: not added.
    expect(next.scope).toBe("openid offline_access ir.incidents:read");
    // The grant itself is unchanged: a refresh without scope gets everything granted again.
    const again = await ok(await refresh(client, next.refresh_token!));
    expect(again.scope).toBe("openid offline_access ir.incidents:read oc.alerts:read");
  });

  it("a granular scope that was not granted is still invalid_scope, even next to a meta scope", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.admin, {
      scope: "openid offline_access ir.incidents:read",
    });
    const first = await ok(await exchangeCode(client, code, verifier));
    const res = await refresh(client, first.refresh_token!, { scope: "ir.all ir.incidents:write" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_scope");
  });
});

describe("redirect_uri at the token endpoint (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3)", () => {
  it("is not required when the authorization request had none (one registered redirect URI)", async () => {
    const client = await createTestClient();
    const { verifier, challenge } = await pkcePair();
    const query = new URL(authorizeUrl(client, challenge, { scope: "openid" }), "http://x").searchParams;
    query.delete("redirect_uri");
    const res = await call(`/oauth/authorize?${query}`, {
      headers: { Cookie: await sessionCookie(DEMO.admin) },
      redirect: "manual",
    });
    const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
    expect(code).toBeTruthy();
    await ok(await tokenRequest(client, { grant_type: "authorization_code", code, code_verifier: verifier }));
  });

  it("when sent without having been in the authorization request, must still be the URI the code went to", async () => {
    const client = await createTestClient();
    const { verifier, challenge } = await pkcePair();
    const query = new URL(authorizeUrl(client, challenge, { scope: "openid" }), "http://x").searchParams;
    query.delete("redirect_uri");
    const res = await call(`/oauth/authorize?${query}`, {
      headers: { Cookie: await sessionCookie(DEMO.admin) },
      redirect: "manual",
    });
    const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
    const wrong = await exchangeCode(client, code, verifier, { redirect_uri: "https://app.example/other" });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_grant");
  });
});
