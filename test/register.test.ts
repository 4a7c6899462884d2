import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import { authenticateClient } from "../src/oauth/client-auth";
import { rateLimitSubject } from "../src/oauth/rate-limit";
import { GRANULAR_SCOPES } from "../src/oauth/scopes";
import { getClient, insertClient } from "../src/store/clients";
import { dbOf } from "../src/store/db";
import { sha256 } from "../src/tokens/secrets";
import { call, ORIGIN } from "./helpers";

// Registration is limited to 10 requests per IP per hour: every request here gets its own address
// unless a test is about the limit itself.
let addresses = 0;
const freshIp = () => `198.51.${Math.floor(++addresses / 250)}.${addresses % 250}`;

type Json = Record<string, unknown>;

function register(body: unknown, options: { ip?: string; headers?: Record<string, string> } = {}) {
  return call("/oauth/register", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": options.ip ?? freshIp(), ...options.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function expectError(res: Response, status: number, code: string): Promise<Json> {
  const body = (await res.json()) as Json;
  expect({ status: res.status, error: body.error }).toEqual({ status, error: code });
  expect(typeof body.error_description).toBe("string");
  return body;
}

const WEB = { redirect_uris: ["https://app.example.com/callback"] };

describe("POST /oauth/register (RFC 7591 §3)", () => {
  it("registers a public client: 201, no secret, RFC 7591 §3.2.1 fields, CORS, no-store", async () => {
    const res = await register(
      { ...WEB, token_endpoint_auth_method: "none", client_name: "Notes" },
      { headers: { Origin: "https://mcp.example" } },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      client_name: "Notes",
      redirect_uris: WEB.redirect_uris,
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      application_type: "web",
      id_token_signed_response_alg: "RS256",
    });
    expect(body).not.toHaveProperty("client_secret");
    expect(body).not.toHaveProperty("client_secret_expires_at");
    expect(body.client_id_issued_at).toBeCloseTo(Date.now() / 1000, -1);
    // 128 random bits behind a prefix: URL-safe for registration_client_uri (RFC 7592 §3) and never
    // "-" first, so `npm run admin -- reset-secret <client_id>` cannot read the id as an option.
    expect(body.client_id).toMatch(/^app_[\w-]{22}$/);
    const row = await getClient(dbOf(env.DB), body.client_id as string);
    expect(row).toMatchObject({ origin: "registered", teamId: null, secretHash: null, automaticConsent: false });
  });

  it("registers a client without scope with every granular scope (and the OIDC ones)", async () => {
    const body = (await (await register({ ...WEB, token_endpoint_auth_method: "none" })).json()) as Json;
    const scopes = (body.scope as string).split(" ");
    expect(scopes).toEqual(expect.arrayContaining([...GRANULAR_SCOPES, "openid", "profile", "email"]));
    expect(scopes).not.toContain("all");
  });

  it("defaults to client_secret_basic and returns the secret once, storing only its SHA-256 (RFC 7591 §2, §3.2.1)", async () => {
    const body = (await (await register(WEB)).json()) as Json;
    expect(body.token_endpoint_auth_method).toBe("client_secret_basic");
    expect(body.client_secret_expires_at).toBe(0);
    const secret = body.client_secret as string;
    expect(secret.length).toBeGreaterThanOrEqual(43);
    const row = await getClient(dbOf(env.DB), body.client_id as string);
    expect(row?.secretHash).toBe(await sha256(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(body.registration_access_token as string);
    // The secret authenticates the client with the registered method.
    const client = await authenticateClient(dbOf(env.DB), settingsOf(env), {
      clientId: body.client_id as string,
      secret,
      method: "client_secret_basic",
    });
    expect(client.id).toBe(body.client_id);
  });

  it("keeps the requested grant types, auth method, ID token alg and descriptive metadata", async () => {
    const body = (await (
      await register({
        ...WEB,
        grant_types: ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: "client_secret_post",
        id_token_signed_response_alg: "ES256",
        scope: "openid ir.incidents:read",
        client_uri: "https://app.example.com/",
        logo_uri: "https://app.example.com/logo.png",
        contacts: ["ops@app.example.com"],
        software_id: "notes",
        unknown_field: "ignored (RFC 7591 §2)",
      })
    ).json()) as Json;
    expect(body).toMatchObject({
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "client_secret_post",
      id_token_signed_response_alg: "ES256",
      scope: "openid ir.incidents:read",
      client_uri: "https://app.example.com/",
      logo_uri: "https://app.example.com/logo.png",
      contacts: ["ops@app.example.com"],
      software_id: "notes",
    });
    expect(body).not.toHaveProperty("unknown_field");
    expect(typeof body.client_secret).toBe("string");
  });

  it("accepts http on the loopback hosts and treats such a client as native (RFC 8252 §7.3)", async () => {
    const uris = ["http://127.0.0.1/callback", "http://[::1]:8080/cb", "http://localhost:6274/oauth/callback"];
    const res = await register({ redirect_uris: uris, token_endpoint_auth_method: "none" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Json;
    expect(body.redirect_uris).toEqual(uris);
    expect(body.application_type).toBe("native");
    const explicit = (await (
      await register({ redirect_uris: uris, token_endpoint_auth_method: "none", application_type: "web" })
    ).json()) as Json;
    expect(explicit.application_type).toBe("web");
  });

  it.each([
    "http://app.example.com/cb",
    "http://127.0.0.2/cb",
    "https://app.example.com/cb#frag",
    "javascript:alert(1)",
    "data:text/html,hi",
    "https://good.example@evil.example/cb",
    "https://ｅｘａｍｐｌｅ.com/cb",
    "https://аpple.com/cb",
    "https://app.example.com/c b",
    "https://app.example.com/cb\r\nX: y",
    "https://app.example.com/\u202ecb",
    "https:app.example.com/cb",
  ])("refuses the redirect URI %j with invalid_redirect_uri (RFC 7591 §3.2.2)", async (uri) => {
    await expectError(
      await register({ redirect_uris: ["https://ok.example.com/cb", uri] }),
      400,
      "invalid_redirect_uri",
    );
  });

  it.each([
    ["missing", {}],
    ["empty", { redirect_uris: [] }],
    ["a string", { redirect_uris: "https://app.example.com/cb" }],
    ["numbers", { redirect_uris: [1, 2] }],
    ["21 of them", { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`) }],
  ])("refuses redirect_uris that are %s with invalid_redirect_uri", async (_what, body) => {
    await expectError(await register(body), 400, "invalid_redirect_uri");
  });

  it.each([
    ["a meta scope", { scope: "openid all" }],
    ["ir.all", { scope: "ir.all" }],
    ["oc.all", { scope: "oc.all" }],
    ["an unknown scope", { scope: "ir.incidents:read ir.nukes:write" }],
    ["a scope with a quote", { scope: 'openid "x"' }],
    ["a scope array", { scope: ["openid"] }],
    ["client_credentials", { grant_types: ["client_credentials"] }],
    ["client_credentials beside authorization_code", { grant_types: ["authorization_code", "client_credentials"] }],
    ["the implicit grant", { grant_types: ["implicit"] }],
    ["refresh_token alone", { grant_types: ["refresh_token"] }],
    ["grant_types as a string", { grant_types: "authorization_code" }],
    ["response_types token", { response_types: ["token"] }],
    ["response_types code and token", { response_types: ["code", "token"] }],
    ["private_key_jwt", { token_endpoint_auth_method: "private_key_jwt" }],
    ["a numeric auth method", { token_endpoint_auth_method: 1 }],
    ["an unsigned ID token", { id_token_signed_response_alg: "none" }],
    ["HS256", { id_token_signed_response_alg: "HS256" }],
    ["application_type browser", { application_type: "browser" }],
    ["a numeric client_name", { client_name: 42 }],
    ["a javascript: logo_uri", { logo_uri: "javascript:alert(1)" }],
    ["an http client_uri", { client_uri: "http://app.example.com/" }],
    ["contacts as a string", { contacts: "ops@app.example.com" }],
  ])("refuses %s with invalid_client_metadata (RFC 7591 §3.2.2)", async (_what, extra) => {
    await expectError(await register({ ...WEB, ...extra }), 400, "invalid_client_metadata");
  });

  it.each([
    ["malformed JSON", '{"redirect_uris": ['],
    ["an array", "[]"],
    ["null", "null"],
    ["a string", '"hello"'],
    ["an empty body", ""],
    ["deeply nested arrays", `${"[".repeat(8000)}${"]".repeat(8000)}`],
  ])("refuses %s with invalid_client_metadata, never a 500", async (_what, raw) => {
    await expectError(await register(raw), 400, "invalid_client_metadata");
  });

  it("refuses deeply nested redirect_uris with invalid_redirect_uri, never a 500", async () => {
    const nested = `{"redirect_uris": ${"[".repeat(8000)}${"]".repeat(8000)}}`;
    await expectError(await register(nested), 400, "invalid_redirect_uri");
  });

  it("refuses a body that is not application/json with invalid_client_metadata (RFC 7591 §3.1)", async () => {
    const form = "redirect_uris=https%3A%2F%2Fapp.example.com%2Fcb";
    await expectError(
      await register(form, { headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
      400,
      "invalid_client_metadata",
    );
    await expectError(
      await register(JSON.stringify(WEB), { headers: { "Content-Type": "" } }),
      400,
      "invalid_client_metadata",
    );
    expect((await register(WEB, { headers: { "Content-Type": "application/json; charset=utf-8" } })).status).toBe(201);
  });

  it("refuses a body over 16 KiB before parsing it (413)", async () => {
    const huge = JSON.stringify({ ...WEB, client_name: "x".repeat(17 * 1024) });
    const res = await register(huge);
    expect(res.status).toBe(413);
    expect(((await res.json()) as Json).error).toBeTypeOf("string");
  });

  it("survives duplicate keys: JSON.parse keeps the last, and the last is validated", async () => {
    const dup = '{"redirect_uris": ["https://app.example.com/cb"], "redirect_uris": ["http://evil.example/cb"]}';
    await expectError(await register(dup), 400, "invalid_redirect_uri");
    const ok = '{"redirect_uris": ["http://evil.example/cb"], "redirect_uris": ["https://app.example.com/cb"]}';
    const body = (await (await register(ok)).json()) as Json;
    expect(body.redirect_uris).toEqual(["https://app.example.com/cb"]);
  });

  it("ignores __proto__ and client-chosen ids and secrets", async () => {
    const raw = `{"__proto__": {"token_endpoint_auth_method": "none"}, "client_id": "mine", "client_secret": "mine", "redirect_uris": ["https://app.example.com/cb"]}`;
    const body = (await (await register(raw)).json()) as Json;
    expect(body.client_id).not.toBe("mine");
    expect(body.client_secret).not.toBe("mine");
    expect(body.token_endpoint_auth_method).toBe("client_secret_basic");
  });

  it("cleans client names: control and bidi characters stripped, length capped, host as fallback", async () => {
    const tricky = (await (
      await register({ ...WEB, client_name: " Good\u0000 App\u202e\u200b\n\tName " })
    ).json()) as Json;
    expect(tricky.client_name).toBe("Good App Name");
    const long = (await (await register({ ...WEB, client_name: "é".repeat(500) })).json()) as Json;
    expect(long.client_name).toBe("é".repeat(100));
    const none = (await (await register({ ...WEB, client_name: "\u0000\u0001" })).json()) as Json;
    expect(none.client_name).toBe("app.example.com");
  });

  it("writes a client.registered audit event with the caller's IP", async () => {
    const body = (await (await register(WEB, { ip: "192.0.2.77" })).json()) as Json;
    const event = await env.DB.prepare("SELECT * FROM audit_events WHERE kind = 'client.registered' AND client_id = ?")
      .bind(body.client_id)
      .first<{ ip: string; team_id: string | null }>();
    expect(event).toMatchObject({ ip: "192.0.2.77", team_id: null });
  });

  it("stores what it answered, column by column, the JSON and boolean columns decoded as written", async () => {
    const body = (await (
      await register({
        ...WEB,
        grant_types: ["authorization_code", "refresh_token"],
        scope: "openid offline_access",
        post_logout_redirect_uris: ["https://app.example.com/bye"],
        contacts: ["ops@app.example.com"],
      })
    ).json()) as Json;
    const row = await getClient(dbOf(env.DB), body.client_id as string);
    expect(row).toMatchObject({
      origin: "registered",
      teamId: null,
      name: "app.example.com",
      applicationType: "web",
      tokenEndpointAuthMethod: "client_secret_basic",
      secretHash: await sha256(body.client_secret as string),
      redirectUris: WEB.redirect_uris,
      postLogoutRedirectUris: ["https://app.example.com/bye"],
      grantTypes: ["authorization_code", "refresh_token"],
      scopes: ["openid", "offline_access"],
      automaticConsent: false,
      serviceUserId: null,
      registrationTokenHash: await sha256(body.registration_access_token as string),
      idTokenSignedResponseAlg: "RS256",
      metadata: { contacts: ["ops@app.example.com"] },
      createdBy: null,
      revokedBefore: 0,
      lastUsedAt: null,
    });
    expect(Math.floor((row?.createdAt ?? 0) / 1000)).toBe(body.client_id_issued_at);
    const event = await env.DB.prepare("SELECT detail, created_at FROM audit_events WHERE client_id = ?")
      .bind(body.client_id)
      .first<{ detail: string; created_at: number }>();
    expect(JSON.parse(event?.detail ?? "null")).toEqual({
      client_name: "app.example.com",
      redirect_uris: WEB.redirect_uris,
      auth_method: "client_secret_basic",
    });
    expect(Math.abs((event?.created_at ?? 0) - (row?.createdAt ?? 0))).toBeLessThan(1000);
  });

  it("writes the client and its audit event in one transaction: neither lands without the other", async () => {
    const body = (await (await register(WEB)).json()) as Json;
    const db = dbOf(env.DB);
    const row = await getClient(db, body.client_id as string);
    if (!row) throw new Error("registered client not found");
    const eventsOf = async (clientId: string) =>
      (
        await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE client_id = ?")
          .bind(clientId)
          .first<{ n: number }>()
      )?.n;
    // The same id again: the client insert fails on its primary key, so its event must not land.
    const again = `${row.id}-again`;
    await expect(insertClient(db, row, { kind: "client.registered", clientId: again })).rejects.toThrow();
    expect(await eventsOf(again)).toBe(0);
    // An event D1 refuses (kind is NOT NULL), after a client it would take: the client must not land.
    const refused = `${row.id}-refused`;
    await expect(
      insertClient(db, { ...row, id: refused }, { kind: null as never, clientId: refused }),
    ).rejects.toThrow();
    expect(await getClient(db, refused)).toBeUndefined();
    // And both land when both can.
    const fine = `${row.id}-2`;
    await insertClient(db, { ...row, id: fine }, { kind: "client.registered", clientId: fine });
    expect((await getClient(db, fine))?.redirectUris).toEqual(WEB.redirect_uris);
    expect(await eventsOf(fine)).toBe(1);
  });

  it("answers CORS preflights", async () => {
    const res = await call("/oauth/register", {
      method: "OPTIONS",
      headers: { Origin: "https://mcp.example", "Access-Control-Request-Method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });
});

describe("registration rate limit (10 per IP per hour)", () => {
  it("counts every POST, refused or malformed, answers the 11th with 429 + Retry-After, and leaves other IPs alone", async () => {
    const ip = "203.0.113.10";
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await register(WEB, { ip })).status);
    for (let i = 0; i < 3; i++) statuses.push((await register("{not json", { ip })).status);
    for (let i = 0; i < 3; i++)
      statuses.push((await register({ redirect_uris: ["http://x.example/"] }, { ip })).status);
    expect(statuses).toEqual([201, 201, 201, 201, 400, 400, 400, 400, 400, 400]);
    const limited = await register(WEB, { ip, headers: { Origin: "https://mcp.example" } });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600).toBe(true);
    expect(limited.headers.get("access-control-allow-origin")).toBe("*");
    await expectError(limited, 429, "slow_down");
    expect((await register(WEB, { ip })).status).toBe(429);
    expect((await register(WEB, { ip: "203.0.113.11" })).status).toBe(201);
  });

  it("does not count CORS preflights", async () => {
    const ip = "203.0.113.20";
    for (let i = 0; i < 12; i++) {
      await call("/oauth/register", {
        method: "OPTIONS",
        headers: { Origin: "https://a.example", "Access-Control-Request-Method": "POST", "CF-Connecting-IP": ip },
      });
    }
    expect((await register(WEB, { ip })).status).toBe(201);
  });

  it("counts IPv6 callers by their /64, so rotating addresses does not reset the count", async () => {
    for (let i = 1; i <= 10; i++) await register("{", { ip: `2001:db8:1:2::${i.toString(16)}` });
    expect((await register(WEB, { ip: "2001:db8:1:2:ffff::1" })).status).toBe(429);
    expect((await register(WEB, { ip: "2001:db8:1:3::1" })).status).toBe(201);
  });

  it("derives the counted subject from the address", () => {
    expect(rateLimitSubject("203.0.113.5")).toBe("203.0.113.5");
    expect(rateLimitSubject("2001:DB8:0001:0002:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(rateLimitSubject("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(rateLimitSubject("::1")).toBe("0:0:0:0::/64");
    expect(rateLimitSubject("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(rateLimitSubject(undefined)).toBe("unknown-ip");
    expect(rateLimitSubject("")).toBe("unknown-ip");
  });
});

describe("RFC 7592 §2.1 read: GET registration_client_uri", () => {
  async function registered() {
    return (await (await register({ ...WEB, client_name: "Readable" })).json()) as Json;
  }

  it("returns the metadata for the registration access token, never the secret", async () => {
    const reg = await registered();
    expect(reg.registration_client_uri).toBe(`${ORIGIN}/oauth/register/${reg.client_id}`);
    const res = await call(new URL(reg.registration_client_uri as string).pathname, {
      headers: { Authorization: `Bearer ${reg.registration_access_token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ client_id: reg.client_id, client_name: "Readable", redirect_uris: WEB.redirect_uris });
    expect(body).not.toHaveProperty("client_secret");
    expect(body).not.toHaveProperty("registration_access_token");
    expect(JSON.stringify(body)).not.toContain(reg.client_secret as string);
  });

  it("answers a missing, wrong or foreign token with 401 invalid_token and WWW-Authenticate (RFC 6750 §3)", async () => {
    const reg = await registered();
    const other = await registered();
    const path = `/oauth/register/${reg.client_id}`;
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Bearer wrong" },
      { Authorization: `Bearer ${other.registration_access_token}` },
      { Authorization: `Basic ${btoa(`${reg.client_id}:${reg.client_secret}`)}` },
    ];
    for (const headers of attempts) {
      const res = await call(path, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="edge-oidc", error="invalid_token"/);
      expect(((await res.json()) as Json).error).toBe("invalid_token");
    }
    const unknown = await call("/oauth/register/nope", {
      headers: { Authorization: `Bearer ${reg.registration_access_token}` },
    });
    expect(unknown.status).toBe(401);
  });
});
