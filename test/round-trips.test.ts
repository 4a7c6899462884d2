/**
 * The round-trip budget (README "How it is built", docs/architecture.md): with warm caches,
 * discovery, JWKS and client_credentials touch no storage; the code exchange, refresh, userinfo,
 * introspection and revocation make exactly one storage call each — to the holder's own UserGrants
 * object — and no D1 read; a signed-in, consented /oauth/authorize makes at most two. Writes that
 * need not precede the answer (audit, the D1 family index, last-used stamps) go through waitUntil:
 * they are held until the response is out (so they cannot delay it) and must then land.
 */
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { serviceShardName, serviceShardOf } from "../src/durable/stub";
import {
  authorizeUrl,
  createServiceAppByAdmin,
  createTestClient,
  DEMO,
  pkcePair,
  sessionCookie,
  type TestClient,
} from "./oauth-helpers";
import { type BindingCall, callsDuring, measure, objectIdOf, send } from "./round-trips";

const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

function clientAuth(client: TestClient, body: URLSearchParams): Record<string, string> {
  if (client.method === "client_secret_basic")
    return { Authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}` };
  body.set("client_id", client.id);
  if (client.secret) body.set("client_secret", client.secret);
  return {};
}

function post(client: TestClient, path: string, params: Record<string, string>): [string, RequestInit] {
  const body = new URLSearchParams(params);
  const headers = { ...FORM, ...clientAuth(client, body) };
  return [path, { method: "POST", headers, body }];
}

async function authorize(client: TestClient, userId: string) {
  const { verifier, challenge } = await pkcePair();
  const init = { headers: { Cookie: await sessionCookie(userId) }, redirect: "manual" as const };
  return { url: authorizeUrl(client, challenge, { scope: "openid profile email ir.incidents:read" }), init, verifier };
}

async function code(client: TestClient, userId: string) {
  const { url, init, verifier } = await authorize(client, userId);
  const res = await send(url, init);
  expect(res.status).toBe(302);
  return { code: new URL(res.headers.get("location")!).searchParams.get("code")!, verifier };
}

const exchange = (client: TestClient, c: { code: string; verifier: string }) =>
  post(client, "/oauth/token", {
    grant_type: "authorization_code",
    code: c.code,
    code_verifier: c.verifier,
    redirect_uri: client.redirectUri,
  });

async function tokens(client: TestClient, userId: string) {
  const res = await send(...exchange(client, await code(client, userId)));
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

/** Exactly one call, to the holder's own object, and nothing else before the answer. */
function expectOneCallToHolder(calls: BindingCall[], userId: string, method: string) {
  expect(calls, JSON.stringify(calls)).toEqual([
    { binding: "USER_GRANTS", kind: method, objectId: objectIdOf(userId) },
  ]);
}

const rows = async (sql: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...binds)
      .all()
  ).results;

describe("storage round trips per request, warm caches", () => {
  it("discovery and JWKS: none", async () => {
    for (const path of [
      "/.well-known/openid-configuration",
      "/.well-known/oauth-authorization-server",
      "/oauth/discovery/keys",
    ]) {
      await send(path);
      const { response, calls, deferred } = await measure(path);
      expect(response.status).toBe(200);
      expect([...calls, ...deferred], path).toEqual([]);
    }
  });

  it("client_credentials: none (the last-used stamp is deferred and lands)", async () => {
    const client = await createServiceAppByAdmin("Budget bot");
    const request = () => post(client, "/oauth/token", { grant_type: "client_credentials" });
    // Warm the client cache with a request that does not stamp "last used" (an unknown token to revoke).
    expect((await send(...post(client, "/oauth/revoke", { token: "unknown" }))).status).toBe(200);
    const { response, calls, deferred } = await measure(...request());
    expect(response.status).toBe(200);
    expect(calls).toEqual([]);
    expect(deferred.map((c) => c.sql)).toEqual([expect.stringMatching(/^update "clients" set "last_used_at"/)]);
    const [stamp] = await rows("SELECT last_used_at FROM clients WHERE id = ?", client.id);
    expect(stamp?.last_used_at).toBeTypeOf("number");
    const again = await measure(...request());
    expect([...again.calls, ...again.deferred]).toEqual([]);
  });

  it("code exchange (RFC 6749 §4.1.3): one call, redeemCode on the holder's object, no D1 read", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    await send(...exchange(client, await code(client, DEMO.member)));
    const { response, calls } = await measure(...exchange(client, await code(client, DEMO.member)));
    expect(response.status).toBe(200);
    expectOneCallToHolder(calls, DEMO.member, "redeemCode");
  });

  it("refresh (RFC 6749 §6): one call, rotateRefreshWithProof (the DPoP binding check) on the holder's object, no D1 read", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const refresh = (t: { refresh_token: string }) =>
      post(client, "/oauth/token", { grant_type: "refresh_token", refresh_token: t.refresh_token });
    await send(...refresh(await tokens(client, DEMO.member)));
    const { response, calls } = await measure(...refresh(await tokens(client, DEMO.member)));
    expect(response.status).toBe(200);
    expectOneCallToHolder(calls, DEMO.member, "rotateRefreshWithProof");
  });

  it("userinfo (OIDC Core §5.3): one call, checkAccess on the holder's object, no D1 read", async () => {
    const client = await createTestClient();
    const t = await tokens(client, DEMO.observer);
    const request: RequestInit = { headers: { Authorization: `Bearer ${t.access_token}` } };
    await send("/oauth/userinfo", request);
    const { response, calls } = await measure("/oauth/userinfo", request);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      sub: DEMO.observer,
      role: "observer",
      email: "observer@example.com",
    });
    expectOneCallToHolder(calls, DEMO.observer, "checkAccess");
  });

  it("introspection (RFC 7662): one call for an access token and one for a refresh token, no D1 read", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const t = await tokens(client, DEMO.member);
    await send(...post(client, "/oauth/introspect", { token: t.access_token }));
    const access = await measure(...post(client, "/oauth/introspect", { token: t.access_token }));
    expect(await access.response.json()).toMatchObject({ active: true, sub: DEMO.member });
    expectOneCallToHolder(access.calls, DEMO.member, "checkAccess");
    const refresh = await measure(
      ...post(client, "/oauth/introspect", { token: t.refresh_token, token_type_hint: "refresh_token" }),
    );
    expect(await refresh.response.json()).toMatchObject({ active: true, token_type: "refresh_token" });
    expectOneCallToHolder(refresh.calls, DEMO.member, "inspectRefresh");
  });

  it("introspection and revocation of a service user's token: one call, to the shard its jti names", async () => {
    const client = await createServiceAppByAdmin("Sharded bot");
    const mint = async () => {
      const res = await send(...post(client, "/oauth/token", { grant_type: "client_credentials" }));
      return ((await res.json()) as { access_token: string }).access_token;
    };
    await send(...post(client, "/oauth/introspect", { token: await mint() }));
    const token = await mint();
    const { jti } = decodeJwt(token);
    const shard = env.USER_GRANTS.idFromName(serviceShardName(client.serviceUserId, serviceShardOf(jti!))).toString();
    const introspected = await measure(...post(client, "/oauth/introspect", { token }));
    expect(await introspected.response.json()).toMatchObject({ active: true, sub: client.serviceUserId });
    expect(introspected.calls).toEqual([{ binding: "USER_GRANTS", kind: "checkAccess", objectId: shard }]);
    const revoked = await measure(...post(client, "/oauth/revoke", { token }));
    expect(revoked.response.status).toBe(200);
    expect(revoked.calls).toEqual([{ binding: "USER_GRANTS", kind: "revokeAccessToken", objectId: shard }]);
  });

  it("revocation (RFC 7009): one call per token; the D1 index and the audit event are deferred and land", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const warm = await tokens(client, DEMO.member);
    await send(...post(client, "/oauth/revoke", { token: warm.access_token }));
    const t = await tokens(client, DEMO.member);

    const access = await measure(...post(client, "/oauth/revoke", { token: t.access_token }));
    expect(access.response.status).toBe(200);
    expectOneCallToHolder(access.calls, DEMO.member, "revokeAccessToken");
    expect(access.deferred.map((c) => c.sql)).toEqual([expect.stringMatching(/^insert into "audit_events"/)]);

    const refresh = await measure(
      ...post(client, "/oauth/revoke", { token: t.refresh_token, token_type_hint: "refresh_token" }),
    );
    expect(refresh.response.status).toBe(200);
    expectOneCallToHolder(refresh.calls, DEMO.member, "revokeRefresh");
    expect(refresh.deferred).toHaveLength(2);
    const families = await rows(
      "SELECT revoked_at FROM token_families WHERE client_id = ? ORDER BY created_at DESC LIMIT 1",
      client.id,
    );
    expect(families[0]?.revoked_at).toBeTypeOf("number");
    const audit = await rows(
      "SELECT detail FROM audit_events WHERE kind = 'token.revoked' AND client_id = ? ORDER BY id",
      client.id,
    );
    expect(audit.map((a) => JSON.parse(String(a.detail)).token_type)).toEqual([
      "access_token",
      "access_token",
      "refresh_token",
    ]);
  });

  it("parallel revocations write their audit events in fewer D1 writes than events, and each lands once", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const issued: Awaited<ReturnType<typeof tokens>>[] = [];
    for (let i = 0; i < 6; i++) issued.push(await tokens(client, DEMO.member));
    const calls = await callsDuring(() =>
      Promise.all(
        issued.map(async (t) =>
          expect((await send(...post(client, "/oauth/revoke", { token: t.access_token }))).status).toBe(200),
        ),
      ),
    );
    const auditWrites = calls.filter((c) => c.kind === "write" && /insert into "audit_events"/.test(c.sql ?? ""));
    expect(auditWrites.length, JSON.stringify(auditWrites)).toBeGreaterThan(0);
    expect(auditWrites.length).toBeLessThan(6);
    const audit = await rows(
      "SELECT detail, event_id FROM audit_events WHERE kind = 'token.revoked' AND client_id = ?",
      client.id,
    );
    expect(audit.map((a) => JSON.parse(String(a.detail)).jti).sort()).toEqual(
      issued.map((t) => decodeJwt(t.access_token).jti).sort(),
    );
    expect(new Set(audit.map((a) => a.event_id)).size).toBe(6);
  });

  it("dynamic registration (RFC 7591 §3): the KV count read, one D1 batch with the client and its audit event; the count written after the response", async () => {
    const body = JSON.stringify({ client_name: "Counted", redirect_uris: ["https://counted.example/cb"] });
    const ip = "198.51.100.71";
    const init = { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip }, body };
    const { response, calls, deferred } = await measure("/oauth/register", init, { holdWrites: false });
    expect(response.status).toBe(201);
    const { client_id } = await response.json<{ client_id: string }>();
    expect(calls.map((c) => `${c.binding} ${c.kind}`)).toEqual(["RATE_LIMIT get", "DB write"]);
    expect(calls[1]?.sql).toMatch(/^insert into "clients" .*; insert into "audit_events"/);
    // The count is not lost: it lands in KV once the response is out.
    expect(deferred.map((c) => `${c.binding} ${c.kind}`)).toEqual(["RATE_LIMIT put"]);
    const window = Math.floor(Date.now() / 1000 / 3600);
    expect(await env.RATE_LIMIT.get(`reg:${ip}:${window}`)).toBe("1");
    expect(await rows("SELECT kind FROM audit_events WHERE client_id = ?", client_id)).toEqual([
      { kind: "client.registered" },
    ]);
  });

  it("an app made through the admin API: the client and its audit event in one D1 batch, as registration", async () => {
    const body = JSON.stringify({
      team_id: DEMO.team,
      name: "Counted admin app",
      type: "public",
      redirect_uris: ["https://counted-admin.example/cb"],
      scope: "openid",
    });
    const headers = { Authorization: `Bearer ${env.ADMIN_API_TOKEN}`, "Content-Type": "application/json" };
    const { response, calls } = await measure(
      "/api/admin/apps",
      { method: "POST", headers, body },
      { holdWrites: false },
    );
    expect(response.status).toBe(201);
    const { client_id } = await response.json<{ client_id: string }>();
    const writes = calls.filter((c) => c.binding === "DB" && c.kind === "write");
    expect(writes.map((c) => c.sql)).toEqual([
      expect.stringMatching(/^insert into "clients" .*; insert into "audit_events"/),
    ]);
    expect(await rows("SELECT kind FROM audit_events WHERE client_id = ?", client_id)).toEqual([
      { kind: "client.created" },
    ]);
  });

  it("signed-in, consented /oauth/authorize: at most two; the family index row is deferred and lands", async () => {
    const client = await createTestClient({ automaticConsent: false });
    await env.DB.prepare("INSERT INTO consents (user_id, client_id, scopes) VALUES (?, ?, ?)")
      .bind(DEMO.member, client.id, JSON.stringify(["openid", "profile", "email", "ir.incidents:read"]))
      .run();
    const warm = await authorize(client, DEMO.member);
    expect((await send(warm.url, warm.init)).status).toBe(302);
    const { url, init } = await authorize(client, DEMO.member);
    const { response, calls, deferred } = await measure(url, init);
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    expect(calls.length, JSON.stringify(calls)).toBeLessThanOrEqual(2);
    expect(calls.at(-1)).toEqual({ binding: "USER_GRANTS", kind: "issueCode", objectId: objectIdOf(DEMO.member) });
    expect(deferred.map((c) => c.sql)).toEqual([expect.stringMatching(/^insert into "token_families"/)]);
    expect(await rows("SELECT id FROM token_families WHERE client_id = ?", client.id)).toHaveLength(2);
  });

  it("parallel authorizations write their family index rows in fewer D1 writes than rows, and every row lands", async () => {
    const client = await createTestClient({ automaticConsent: true });
    const requests = await Promise.all(Array.from({ length: 10 }, () => authorize(client, DEMO.member)));
    const calls = await callsDuring(() =>
      Promise.all(requests.map(async ({ url, init }) => expect((await send(url, init)).status).toBe(302))),
    );
    const indexWrites = calls.filter((c) => c.kind === "write" && /insert into "token_families"/.test(c.sql ?? ""));
    expect(indexWrites.length, JSON.stringify(indexWrites)).toBeGreaterThan(0);
    expect(indexWrites.length).toBeLessThan(10);
    expect(await rows("SELECT id FROM token_families WHERE client_id = ?", client.id)).toHaveLength(10);
  });
});
