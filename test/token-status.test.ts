/** Revocation (RFC 7009 §2.1–2.2), introspection (RFC 7662 §2.1–2.2), userinfo (OIDC Core §5.3–5.4, RFC 6750 §3). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { revokeAllTokensOfClient, revokeUserClientTokens } from "../src/oauth/grants/revocation";
import { endEverySession } from "../src/signin/sign-out";
import { forgetClient } from "../src/store/clients";
import { dbOf } from "../src/store/db";
import { call, callWith, ORIGIN } from "./helpers";
import {
  createTestClient,
  DEMO,
  exchangeCode,
  obtainCode,
  setRoles,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

async function grant(client?: TestClient, user: string = DEMO.admin, scope?: string) {
  const c = client ?? (await createTestClient({ method: "client_secret_basic" }));
  const { code, verifier } = await obtainCode(c, user, scope ? { scope } : {});
  const res = await exchangeCode(c, code, verifier);
  expect(res.status).toBe(200);
  return { client: c, tokens: (await res.json()) as Tokens };
}

function requestInit(client: TestClient, params: Record<string, string>): RequestInit {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (client.method === "client_secret_basic") headers.Authorization = `Basic ${btoa(`${client.id}:${client.secret}`)}`;
  else {
    body.set("client_id", client.id);
    if (client.secret) body.set("client_secret", client.secret);
  }
  return { method: "POST", headers, body };
}

const introspect = async (client: TestClient, token: string, hint?: string) => {
  const res = await call(
    "/oauth/introspect",
    requestInit(client, { token, ...(hint ? { token_type_hint: hint } : {}) }),
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as Record<string, unknown>;
};
/** Waits for the request's work after the response too: its audit event is written then. */
const revoke = (client: TestClient, token: string, hint?: string) =>
  callWith(env, "/oauth/revoke", requestInit(client, { token, ...(hint ? { token_type_hint: hint } : {}) }));
const userinfo = (token: string) => call("/oauth/userinfo", { headers: { Authorization: `Bearer ${token}` } });

describe("introspection (RFC 7662)", () => {
  it("describes a live access token (§2.2)", async () => {
    const { client, tokens } = await grant();
    const body = await introspect(client, tokens.access_token);
    expect(body).toMatchObject({
      active: true,
      client_id: client.id,
      sub: DEMO.admin,
      iss: ORIGIN,
      aud: ORIGIN,
      token_type: "Bearer",
      team_id: DEMO.team,
      username: "admin@example.com",
    });
    expect(body.scope).toBe(tokens.scope);
    expect(body.exp).toBeTypeOf("number");
    expect(body.iat).toBeTypeOf("number");
  });

  it("describes a live refresh token, whatever the hint says (§2.1)", async () => {
    const { client, tokens } = await grant();
    const body = await introspect(client, tokens.refresh_token, "access_token");
    expect(body).toMatchObject({ active: true, token_type: "refresh_token", client_id: client.id });
  });

  it("reports the effective scope now: a role downgrade takes effect at once", async () => {
    const { client, tokens } = await grant(undefined, DEMO.member, "openid ir.incidents:read ir.incidents:write");
    expect((await introspect(client, tokens.access_token)).scope).toBe("openid ir.incidents:read ir.incidents:write");
    await setRoles(DEMO.member, { role: "observer" });
    expect((await introspect(client, tokens.access_token)).scope).toBe("openid ir.incidents:read");
    await setRoles(DEMO.member, { role: "member" });
  });

  it("is inactive, with no detail, for malformed, forged and foreign tokens (§2.2)", async () => {
    const { client, tokens } = await grant();
    for (const token of ["nonsense", "a.b.c", `${tokens.access_token.slice(0, -4)}AAAA`, "eoidc_rt_AAAA"]) {
      expect(await introspect(client, token)).toEqual({ active: false });
    }
    // A public client of another team cannot learn about this token.
    const stranger = await createTestClient({ teamId: null });
    expect(await introspect(stranger, tokens.access_token)).toEqual({ active: false });
  });

  it("a confidential client of another team sees the token as inactive (RFC 7662 §2.2, no detail leaked)", async () => {
    const { tokens } = await grant();
    await env.DB.prepare("INSERT OR IGNORE INTO teams (id, name) VALUES ('team_elsewhere', 'Elsewhere')").run();
    const outsider = await createTestClient({ method: "client_secret_basic", teamId: "team_elsewhere" });
    expect(await introspect(outsider, tokens.access_token)).toEqual({ active: false });
    // …while a confidential client of the same team (a resource server) may introspect it.
    const colleague = await createTestClient({ method: "client_secret_basic" });
    expect((await introspect(colleague, tokens.access_token)).active).toBe(true);
  });

  it("requires client authentication", async () => {
    const res = await call("/oauth/introspect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "token=abc",
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_client");
  });
});

describe("revocation (RFC 7009)", () => {
  it("revoking an access token makes userinfo and introspection reject it at once (§2.1)", async () => {
    const { client, tokens } = await grant();
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    expect((await revoke(client, tokens.access_token)).status).toBe(200);
    const res = await userinfo(tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    // The refresh token is not affected by revoking one access token.
    expect((await introspect(client, tokens.refresh_token)).active).toBe(true);
  });

  it("revoking a refresh token ends its family: refresh and its access tokens die", async () => {
    const { client, tokens } = await grant();
    expect((await revoke(client, tokens.refresh_token, "refresh_token")).status).toBe(200);
    const refreshed = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_grant");
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    const audit = await env.DB.prepare("SELECT 1 FROM audit_events WHERE kind = 'token.revoked' AND client_id = ?")
      .bind(client.id)
      .first();
    expect(audit).not.toBeNull();
  });

  it("answers 200 for unknown, malformed and already revoked tokens (§2.2)", async () => {
    const { client, tokens } = await grant();
    expect((await revoke(client, "not-a-token")).status).toBe(200);
    expect((await revoke(client, tokens.refresh_token)).status).toBe(200);
    expect((await revoke(client, tokens.refresh_token)).status).toBe(200);
  });

  it("a client cannot revoke another client's token", async () => {
    const { tokens } = await grant();
    const other = await createTestClient({ method: "client_secret_post" });
    expect((await revoke(other, tokens.access_token)).status).toBe(200);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });

  it("a client cannot revoke another client's refresh token: 200, and the family lives on (RFC 7009 §2.1)", async () => {
    const { client, tokens } = await grant();
    const other = await createTestClient({ method: "client_secret_post" });
    expect((await revoke(other, tokens.refresh_token, "refresh_token")).status).toBe(200);
    expect((await introspect(client, tokens.refresh_token)).active).toBe(true);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });

  it("refuses unauthenticated callers with invalid_client", async () => {
    const { tokens } = await grant();
    const res = await call("/oauth/revoke", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic bm9ib2R5Om5vdGhpbmc=" },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
  });
});

describe("revocation reaches everywhere", () => {
  it("revoke every token of an app: every user's tokens die at once", async () => {
    const client = await createTestClient();
    const a = await grant(client, DEMO.admin);
    const b = await grant(client, DEMO.member);
    await revokeAllTokensOfClient(env, client.id);
    for (const t of [a.tokens, b.tokens]) {
      expect((await userinfo(t.access_token)).status).toBe(401);
      expect(await introspect(client, t.refresh_token)).toEqual({ active: false });
    }
  });

  it("an app's revoked_before kills its earlier access tokens even where no family was revoked", async () => {
    const client = await createTestClient();
    const { tokens } = await grant(client, DEMO.admin);
    await env.DB.prepare("UPDATE clients SET revoked_before = ? WHERE id = ?")
      .bind(Date.now() + 1000, client.id)
      .run();
    forgetClient(client.id);
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
  });

  it("a user revoking a connected app ends that user's families only", async () => {
    const client = await createTestClient();
    const a = await grant(client, DEMO.admin);
    const b = await grant(client, DEMO.member);
    await revokeUserClientTokens(env, DEMO.admin, client.id);
    expect((await userinfo(a.tokens.access_token)).status).toBe(401);
    expect((await userinfo(b.tokens.access_token)).status).toBe(200);
  });

  it("sign out everywhere ends sessions, not the tokens apps hold (connected apps revokes those)", async () => {
    const { tokens } = await grant(undefined, DEMO.observer);
    await endEverySession(dbOf(env.DB), DEMO.observer, null);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });

  it("refresh-token reuse detection kills the access tokens of the family too", async () => {
    const { client, tokens } = await grant();
    const thief = await createTestClient();
    await tokenRequest(thief, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
  });
});

describe("userinfo (OIDC Core §5.3)", () => {
  it("returns claims gated by scope (§5.4)", async () => {
    const full = await grant(undefined, DEMO.member, "openid profile email");
    const body = await (await userinfo(full.tokens.access_token)).json();
    expect(body).toEqual({
      sub: DEMO.member,
      email: "member@example.com",
      email_verified: true,
      name: "Demo Member",
      team_id: DEMO.team,
      role: "member",
      on_call_role: "responder",
    });
    const bare = await grant(undefined, DEMO.member, "openid");
    expect(await (await userinfo(bare.tokens.access_token)).json()).toEqual({ sub: DEMO.member });
  });

  it("accepts the token in a POST form body (RFC 6750 §2.2) and refuses it in two places", async () => {
    const { tokens } = await grant();
    const post = await call("/oauth/userinfo", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(post.status).toBe(200);
    const both = await call("/oauth/userinfo", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Bearer ${tokens.access_token}` },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(both.status).toBe(400);
  });

  it("never reads the token from the query string (RFC 6750 §2.3 is not offered)", async () => {
    const { tokens } = await grant();
    const res = await call(`/oauth/userinfo?access_token=${tokens.access_token}`);
    expect(res.status).toBe(401);
  });

  it("without a token: 401 with a bare Bearer challenge (RFC 6750 §3.1)", async () => {
    const res = await call("/oauth/userinfo");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="edge-oidc"');
  });

  it("a token without openid → 403 insufficient_scope (RFC 6750 §3.1)", async () => {
    const { tokens } = await grant(undefined, DEMO.admin, "ir.incidents:read");
    const res = await userinfo(tokens.access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });

  it("forged tokens and alg=none are invalid_token", async () => {
    const { tokens } = await grant();
    const [, payload] = tokens.access_token.split(".");
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "at+jwt" })).replace(/=/g, "")}.${payload}.`;
    for (const token of [none, `${tokens.access_token}x`, "abc"]) {
      const res = await userinfo(token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("invalid_token");
    }
  });
});
