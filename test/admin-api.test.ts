import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/app";
import { settingsOf } from "../src/config";
import { authenticateClient } from "../src/oauth/client-auth";
import type { OAuthError } from "../src/oauth/errors";
import { GRANULAR_SCOPES, OC_SCOPES } from "../src/oauth/scopes";
import { getClient } from "../src/store/clients";
import { dbOf } from "../src/store/db";
import { randomToken, sha256 } from "../src/tokens/secrets";
import { call, ORIGIN } from "./helpers";
import { DEMO, exchangeCode, obtainCode, type TestClient } from "./oauth-helpers";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";
const db = dbOf(env.DB);
type Json = Record<string, unknown>;

function operator(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return call(`/api/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A signed-in browser: session cookie + CSRF cookie, as test/setup's seeded users. */
async function browser(userId: string) {
  const session = randomToken(32);
  const csrf = randomToken(32);
  await env.DB.prepare(
    "INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
  )
    .bind(await sha256(session), userId, Math.floor(Date.now() / 1000), Date.now(), Date.now() + 3600_000)
    .run();
  const cookie = `eoidc_session=${session}; eoidc_csrf=${csrf}`;
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(`/api/admin${path}`, {
      method,
      headers: { Cookie: cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

async function expectError(res: Response, status: number, code: string) {
  const body = (await res.json()) as Json;
  expect({ status: res.status, error: body.error }).toEqual({ status, error: code });
}

async function authenticates(clientId: string, secret: string | undefined): Promise<boolean> {
  return authenticateClient(db, settingsOf(env), { clientId, secret, method: "client_secret_basic" }).then(
    () => true,
    (e: unknown) => {
      expect((e as OAuthError).code).toBe("invalid_client");
      return false;
    },
  );
}

const WEB_APP = { name: "Dashboard", type: "confidential", redirect_uris: ["https://dash.example.com/cb"] };

beforeAll(async () => {
  await env.DB.prepare("INSERT INTO teams (id, name) VALUES ('team_other', 'Other')").run();
});

describe("admin API with the operator token", () => {
  it("creates a client_credentials app with its service user; the secret is shown once", async () => {
    const res = await operator("POST", "/apps", {
      name: "Deploy bot",
      type: "client_credentials",
      scope: "ir.incidents:read oc.all",
      team_id: "team_demo",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const app = (await res.json()) as Json;
    expect(app).toMatchObject({
      name: "Deploy bot",
      type: "client_credentials",
      origin: "admin",
      team_id: "team_demo",
      grant_types: ["client_credentials"],
      token_endpoint_auth_method: "client_secret_basic",
      redirect_uris: [],
      client_secret_expires_at: 0,
    });
    // Meta scopes are stored expanded.
    expect((app.scope as string).split(" ").sort()).toEqual(["ir.incidents:read", ...OC_SCOPES].sort());
    const row = await getClient(db, app.client_id as string);
    expect(row?.secretHash).toBe(await sha256(app.client_secret as string));
    const user = await env.DB.prepare(
      "SELECT u.kind, u.email, u.name, m.team_id, m.role, m.on_call_role FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.id = ?",
    )
      .bind(row?.serviceUserId)
      .first();
    expect(user).toEqual({
      kind: "service",
      email: null,
      name: "Deploy bot (service)",
      team_id: "team_demo",
      role: "service",
      on_call_role: "service",
    });
    expect(await authenticates(app.client_id as string, app.client_secret as string)).toBe(true);
    // Never readable again: neither the read nor the list shows it.
    const read = await (await operator("GET", `/apps/${app.client_id}`)).text();
    const list = await (await operator("GET", "/apps?team_id=team_demo")).text();
    for (const text of [read, list]) {
      expect(text).toContain(app.client_id as string);
      expect(text).not.toContain(app.client_secret as string);
      expect(text).not.toContain("secret_hash");
      expect(text).not.toContain(row?.secretHash as string);
    }
  });

  it("creates public and confidential apps; admin apps may use meta scopes", async () => {
    const pub = (await (
      await operator("POST", "/apps", {
        name: "CLI",
        type: "public",
        redirect_uris: ["http://127.0.0.1/cb"],
        scope: "openid all",
        automatic_consent: true,
        team_id: "team_demo",
      })
    ).json()) as Json;
    expect(pub).toMatchObject({ type: "public", token_endpoint_auth_method: "none", automatic_consent: true });
    expect(pub).not.toHaveProperty("client_secret");
    expect((pub.scope as string).split(" ")).toEqual(["openid", ...GRANULAR_SCOPES]);
    const conf = (await (
      await operator("POST", "/apps", {
        ...WEB_APP,
        token_endpoint_auth_method: "client_secret_post",
        team_id: "team_demo",
      })
    ).json()) as Json;
    expect(conf).toMatchObject({
      type: "confidential",
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code", "refresh_token"],
      application_type: "web",
    });
    expect(typeof conf.client_secret).toBe("string");
  });

  it("needs team_id with the token, and an existing team", async () => {
    await expectError(await operator("POST", "/apps", WEB_APP), 400, "invalid_request");
    await expectError(await operator("GET", "/apps"), 400, "invalid_request");
    await expectError(await operator("GET", "/audit"), 400, "invalid_request");
    await expectError(await operator("POST", "/apps", { ...WEB_APP, team_id: "team_nope" }), 404, "not_found");
  });

  it("refuses a bad token or none with 401 invalid_token and a Bearer challenge", async () => {
    const attempts: Record<string, string>[] = [
      { Authorization: "Bearer wrong-token" },
      { Authorization: `Basic ${btoa("a:b")}` },
      {},
    ];
    for (const headers of attempts) {
      const res = await call("/api/admin/apps?team_id=team_demo", { headers });
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
      await expectError(res, 401, "invalid_token");
    }
  });

  it("is disabled when ADMIN_API_TOKEN is unset", async () => {
    const res = await app.request(
      `${ORIGIN}/api/admin/apps?team_id=team_demo`,
      { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } },
      { ...env, ADMIN_API_TOKEN: undefined },
    );
    await expectError(res, 401, "invalid_token");
  });

  it.each([
    ["malformed JSON", "{", 400, "invalid_request"],
    ["an array", "[]", 400, "invalid_request"],
    ["a numeric name", { ...WEB_APP, name: 7, team_id: "team_demo" }, 400, "invalid_client_metadata"],
    ["an unknown type", { ...WEB_APP, type: "implicit", team_id: "team_demo" }, 400, "invalid_client_metadata"],
    ["an unknown field", { ...WEB_APP, team_id: "team_demo", secret: "mine" }, 400, "invalid_request"],
    [
      "a bad redirect URI",
      { ...WEB_APP, redirect_uris: ["http://x.example/"], team_id: "team_demo" },
      400,
      "invalid_redirect_uri",
    ],
    ["no redirect URI", { name: "x", type: "public", team_id: "team_demo" }, 400, "invalid_redirect_uri"],
    ["an unknown scope", { ...WEB_APP, scope: "ir.nukes:write", team_id: "team_demo" }, 400, "invalid_client_metadata"],
    [
      "a public app with a secret method",
      { ...WEB_APP, type: "public", token_endpoint_auth_method: "client_secret_basic", team_id: "team_demo" },
      400,
      "invalid_client_metadata",
    ],
    [
      "client_credentials with redirect URIs",
      { ...WEB_APP, type: "client_credentials", scope: "ir.incidents:read", team_id: "team_demo" },
      400,
      "invalid_client_metadata",
    ],
    [
      "client_credentials without scope",
      { name: "bot", type: "client_credentials", team_id: "team_demo" },
      400,
      "invalid_client_metadata",
    ],
    [
      "client_credentials with openid",
      { name: "bot", type: "client_credentials", scope: "openid ir.incidents:read", team_id: "team_demo" },
      400,
      "invalid_client_metadata",
    ],
    [
      "a string automatic_consent",
      { ...WEB_APP, automatic_consent: "yes", team_id: "team_demo" },
      400,
      "invalid_client_metadata",
    ],
    ["a huge body", { ...WEB_APP, name: "x".repeat(20_000), team_id: "team_demo" }, 413, "invalid_request"],
  ])("refuses %s on create, never a 500", async (_what, body, status, code) => {
    await expectError(await operator("POST", "/apps", body), status, code);
  });

  it("refuses a body that is not JSON with 415", async () => {
    await expectError(
      await operator("POST", "/apps", "name=x", { "Content-Type": "application/x-www-form-urlencoded" }),
      415,
      "invalid_request",
    );
  });

  it("edits name, redirect URIs, scopes and automatic consent, and audits it", async () => {
    const created = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_demo" })).json()) as Json;
    const res = await operator("PATCH", `/apps/${created.client_id}`, {
      name: "Renamed\u0007",
      redirect_uris: ["https://dash.example.com/cb2", "http://localhost:3000/cb"],
      scope: "ir.all",
      automatic_consent: true,
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as Json;
    expect(updated).toMatchObject({
      name: "Renamed",
      redirect_uris: ["https://dash.example.com/cb2", "http://localhost:3000/cb"],
      automatic_consent: true,
    });
    expect((updated.scope as string).split(" ")).toEqual(GRANULAR_SCOPES.filter((s) => s.startsWith("ir.")));
    expect((await getClient(db, created.client_id as string))?.name).toBe("Renamed");
    // What only creation sets is refused by name, and nothing changes.
    for (const fixed of [
      { type: "public" },
      { token_endpoint_auth_method: "client_secret_post" },
      { team_id: "team_other" },
    ]) {
      const refused = await operator("PATCH", `/apps/${created.client_id}`, fixed);
      const body = (await refused.json()) as Json;
      expect({ status: refused.status, error: body.error }).toEqual({ status: 400, error: "invalid_request" });
      expect(body.error_description).toBe(
        `${Object.keys(fixed)[0]} is fixed when the app is created: make a new app to change it`,
      );
    }
    expect(await getClient(db, created.client_id as string)).toMatchObject({
      teamId: "team_demo",
      tokenEndpointAuthMethod: "client_secret_basic",
      grantTypes: ["authorization_code", "refresh_token"],
    });
    await expectError(
      await operator("PATCH", `/apps/${created.client_id}`, { redirect_uris: ["https://a.example/#x"] }),
      400,
      "invalid_redirect_uri",
    );
    await expectError(await operator("PATCH", "/apps/nope", { name: "x" }), 404, "not_found");
    const events = (await (await operator("GET", "/audit?team_id=team_demo&kind=client.updated")).json()) as Json;
    expect((events.events as Json[]).some((e) => e.client_id === created.client_id)).toBe(true);
  });

  it("resets a secret: the new one is shown once and works, the old one fails at once", async () => {
    const created = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_demo" })).json()) as Json;
    const id = created.client_id as string;
    expect(await authenticates(id, created.client_secret as string)).toBe(true); // now cached in this isolate
    const res = await operator("POST", `/apps/${id}/reset-secret`);
    expect(res.status).toBe(200);
    const reset = (await res.json()) as Json;
    expect(reset).toMatchObject({ client_id: id, client_secret_expires_at: 0 });
    expect(reset.client_secret).not.toBe(created.client_secret);
    expect(await authenticates(id, created.client_secret as string)).toBe(false);
    expect(await authenticates(id, reset.client_secret as string)).toBe(true);
    const pub = (await (
      await operator("POST", "/apps", {
        name: "p",
        type: "public",
        redirect_uris: ["http://127.0.0.1/cb"],
        team_id: "team_demo",
      })
    ).json()) as Json;
    await expectError(await operator("POST", `/apps/${pub.client_id}/reset-secret`), 400, "invalid_request");
  });

  it("issues client_credentials tokens only with the current secret, at /oauth/token (RFC 6749 §4.4, §5.2)", async () => {
    const created = (await (
      await operator("POST", "/apps", {
        name: "Bot",
        type: "client_credentials",
        scope: "ir.all",
        team_id: "team_demo",
      })
    ).json()) as Json;
    const id = created.client_id as string;
    const token = (secret: unknown) =>
      call("/oauth/token", {
        method: "POST",
        headers: {
          Authorization: `Basic ${btoa(`${id}:${secret}`)}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: "grant_type=client_credentials&scope=ir.incidents:read",
      });
    expect((await token(created.client_secret)).status).toBe(200);
    const reset = (await (await operator("POST", `/apps/${id}/reset-secret`)).json()) as Json;
    const old = await token(created.client_secret);
    expect(old.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    await expectError(old, 401, "invalid_client");
    expect((await token(reset.client_secret)).status).toBe(200);
    expect((await operator("DELETE", `/apps/${id}`)).status).toBe(204);
    await expectError(await token(reset.client_secret), 401, "invalid_client");
  });

  it("revokes every token of an app: revoked_before moves to now", async () => {
    const created = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_demo" })).json()) as Json;
    const before = Date.now();
    const res = await operator("POST", `/apps/${created.client_id}/revoke-tokens`);
    expect(res.status).toBe(200);
    expect(Date.parse(((await res.json()) as Json).tokens_revoked_at as string)).toBeGreaterThanOrEqual(before - 1000);
    expect((await getClient(db, created.client_id as string))?.revokedBefore).toBeGreaterThanOrEqual(before);
  });

  it("deletes an app with its service user; the client no longer authenticates", async () => {
    const created = (await (
      await operator("POST", "/apps", {
        name: "Gone",
        type: "client_credentials",
        scope: "oc.alerts:read",
        team_id: "team_demo",
      })
    ).json()) as Json;
    const id = created.client_id as string;
    expect(await authenticates(id, created.client_secret as string)).toBe(true);
    const serviceUserId = (await getClient(db, id))?.serviceUserId;
    const res = await operator("DELETE", `/apps/${id}`);
    expect(res.status).toBe(204);
    expect(await getClient(db, id)).toBeUndefined();
    expect(await env.DB.prepare("SELECT id FROM users WHERE id = ?").bind(serviceUserId).first()).toBeNull();
    expect(await authenticates(id, created.client_secret as string)).toBe(false);
    await expectError(await operator("GET", `/apps/${id}`), 404, "not_found");
  });

  it("writes an audit event for every change, readable page by page", async () => {
    const created = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_other" })).json()) as Json;
    const id = created.client_id as string;
    await operator("PATCH", `/apps/${id}`, { name: "Other dashboard" });
    await operator("POST", `/apps/${id}/reset-secret`);
    await operator("POST", `/apps/${id}/revoke-tokens`);
    await operator("DELETE", `/apps/${id}`);
    const kinds: string[] = [];
    let before = "";
    for (let page = 0; page < 5; page++) {
      const res = await operator("GET", `/audit?team_id=team_other&limit=2${before}`);
      const body = (await res.json()) as { events: Json[]; next_before: number | null };
      kinds.push(...body.events.map((e) => e.kind as string));
      if (body.next_before === null) break;
      before = `&before=${body.next_before}`;
    }
    expect(kinds).toEqual([
      "client.deleted",
      "client.tokens_revoked",
      "client.secret_reset",
      "client.updated",
      "client.created",
    ]);
    await expectError(await operator("GET", "/audit?team_id=team_other&limit=abc"), 400, "invalid_request");
  });

  it("filters the audit by app (client_id) and by person (actor_user_id), as the audit page does", async () => {
    const one = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_other" })).json()) as Json;
    const two = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_other" })).json()) as Json;
    await operator("PATCH", `/apps/${one.client_id}`, { name: "Filtered one" });
    const byApp = (await (
      await operator("GET", `/audit?team_id=team_other&client_id=${encodeURIComponent(one.client_id as string)}`)
    ).json()) as { events: Json[] };
    expect(byApp.events.map((e) => [e.kind, e.client_id])).toEqual([
      ["client.updated", one.client_id],
      ["client.created", one.client_id],
    ]);
    expect(byApp.events.some((e) => e.client_id === two.client_id)).toBe(false);
    // The operator acts as nobody (actor null): a person filter matches none of its events.
    const byPerson = (await (
      await operator("GET", `/audit?team_id=team_other&actor_user_id=usr_demo_admin`)
    ).json()) as { events: Json[] };
    expect(byPerson.events).toEqual([]);
  });
});

describe("admin API with a team admin's browser session", () => {
  it("lets the team admin manage the team's apps; the team is implied by the session", async () => {
    const admin = await browser("usr_demo_admin");
    const res = await admin("POST", "/apps", WEB_APP);
    expect(res.status).toBe(201);
    const created = (await res.json()) as Json;
    expect(created).toMatchObject({ team_id: "team_demo", created_by: "usr_demo_admin" });
    const list = (await (await admin("GET", "/apps")).json()) as { team_id: string; apps: Json[] };
    expect(list.team_id).toBe("team_demo");
    expect(list.apps.map((a) => a.client_id)).toContain(created.client_id);
    const audit = (await (await admin("GET", "/audit?kind=client.created")).json()) as { events: Json[] };
    expect(audit.events.find((e) => e.client_id === created.client_id)).toMatchObject({
      actor_user_id: "usr_demo_admin",
    });
  });

  it("requires X-CSRF-Token equal to the CSRF cookie on changes, not on reads", async () => {
    const admin = await browser("usr_demo_admin");
    await expectError(await admin("POST", "/apps", WEB_APP, { "X-CSRF-Token": "" }), 403, "access_denied");
    await expectError(await admin("POST", "/apps", WEB_APP, { "X-CSRF-Token": randomToken(32) }), 403, "access_denied");
    // A cross-site Origin fails even with the right token.
    await expectError(await admin("POST", "/apps", WEB_APP, { Origin: "https://evil.example" }), 403, "access_denied");
    expect((await admin("GET", "/apps", undefined, { "X-CSRF-Token": "" })).status).toBe(200);
  });

  it("refuses members and observers with 403 access_denied", async () => {
    for (const user of ["usr_demo_member", "usr_demo_observer"]) {
      const person = await browser(user);
      await expectError(await person("GET", "/apps"), 403, "access_denied");
      await expectError(await person("POST", "/apps", WEB_APP), 403, "access_denied");
    }
  });

  it("keeps an admin inside their team", async () => {
    const foreign = (await (await operator("POST", "/apps", { ...WEB_APP, team_id: "team_other" })).json()) as Json;
    const admin = await browser("usr_demo_admin");
    await expectError(await admin("GET", `/apps/${foreign.client_id}`), 404, "not_found");
    await expectError(await admin("DELETE", `/apps/${foreign.client_id}`), 404, "not_found");
    await expectError(await admin("GET", "/apps?team_id=team_other"), 403, "access_denied");
    await expectError(await admin("POST", "/apps", { ...WEB_APP, team_id: "team_other" }), 403, "access_denied");
    expect(await getClient(db, foreign.client_id as string)).toBeDefined();
  });

  it("refuses a team admin's session key rotation: keys serve every team (403, nothing rotated)", async () => {
    const admin = await browser("usr_demo_admin");
    const before = await env.DB.prepare("SELECT kid, status FROM signing_keys ORDER BY kid").all();
    await expectError(await admin("POST", "/keys/rotate"), 403, "access_denied");
    const after = await env.DB.prepare("SELECT kid, status FROM signing_keys ORDER BY kid").all();
    expect(after.results).toEqual(before.results);
  });
});

describe("a self-registered app belongs to its registrant (RFC 7592): the team may only revoke or delete it", () => {
  /** A client registered through RFC 7591 and bound to the Demo team by a first authorization. */
  async function registeredApp(): Promise<string> {
    const res = await call("/oauth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.77" },
      body: JSON.stringify({
        client_name: "Registered",
        redirect_uris: ["https://registered.example/cb"],
        token_endpoint_auth_method: "client_secret_basic",
      }),
    });
    expect(res.status).toBe(201);
    const { client_id } = (await res.json()) as { client_id: string };
    await env.DB.prepare("UPDATE clients SET team_id = 'team_demo' WHERE id = ?").bind(client_id).run();
    return client_id;
  }

  for (const [who, caller] of [
    ["a team admin's session", () => browser("usr_demo_admin")],
    ["the operator token", async () => operator],
  ] as const) {
    it(`refuses ${who} edits and secret resets with 403, changing nothing`, async () => {
      const id = await registeredApp();
      const as = await caller();
      const stored = await getClient(db, id);
      await expectError(
        await as("PATCH", `/apps/${id}`, { redirect_uris: ["https://attacker.example/cb"], automatic_consent: true }),
        403,
        "access_denied",
      );
      await expectError(await as("PATCH", `/apps/${id}`, { name: "Renamed" }), 403, "access_denied");
      await expectError(await as("POST", `/apps/${id}/reset-secret`), 403, "access_denied");
      expect(await getClient(db, id)).toEqual(stored);
    });

    it(`lets ${who} revoke its tokens and delete it`, async () => {
      const id = await registeredApp();
      const as = await caller();
      expect((await as("POST", `/apps/${id}/revoke-tokens`)).status).toBe(200);
      expect((await getClient(db, id))?.revokedBefore).toBeGreaterThan(0);
      expect((await as("DELETE", `/apps/${id}`)).status).toBe(204);
      expect(await getClient(db, id)).toBeUndefined();
    });
  }
});

describe("an admin app's ID token signature (id_token_signed_response_alg, OIDC Dynamic Client Registration §2)", () => {
  const PERSONAL = {
    name: "Signed in",
    type: "confidential",
    team_id: DEMO.team,
    redirect_uris: ["https://app.example.com/cb"],
    scope: "openid profile email ir.incidents:read",
    automatic_consent: true,
  };

  async function idTokenAlg(created: Json & { client_id: string; client_secret: string }): Promise<string> {
    const client: TestClient = {
      id: created.client_id,
      secret: created.client_secret,
      redirectUri: PERSONAL.redirect_uris[0]!,
      method: "client_secret_basic",
    };
    const { code, verifier } = await obtainCode(client, DEMO.member);
    const res = await exchangeCode(client, code, verifier);
    expect(res.status).toBe(200);
    const { id_token } = (await res.json()) as { id_token: string };
    // OIDC Core §3.1.3.7 step 6: verified with the server's published key for that alg.
    const jwks = createLocalJWKSet((await (await call("/oauth/discovery/keys")).json()) as never);
    const { protectedHeader } = await jwtVerify(id_token, jwks, { issuer: ORIGIN, audience: client.id });
    return protectedHeader.alg!;
  }

  it("is RS256 unless the admin chooses ES256; the choice is shown, applied, and can be changed back", async () => {
    const plain = (await (await operator("POST", "/apps", PERSONAL)).json()) as Json & {
      client_id: string;
      client_secret: string;
    };
    expect(plain.id_token_signed_response_alg).toBe("RS256");
    expect(await idTokenAlg(plain)).toBe("RS256");

    const res = await operator("POST", "/apps", { ...PERSONAL, id_token_signed_response_alg: "ES256" });
    expect(res.status).toBe(201);
    const es = (await res.json()) as Json & { client_id: string; client_secret: string };
    expect(es.id_token_signed_response_alg).toBe("ES256");
    expect((await getClient(db, es.client_id))?.idTokenSignedResponseAlg).toBe("ES256");
    expect(await idTokenAlg(es)).toBe("ES256");

    const back = await operator("PATCH", `/apps/${es.client_id}`, { id_token_signed_response_alg: "RS256" });
    expect(((await back.json()) as Json).id_token_signed_response_alg).toBe("RS256");
    expect(await idTokenAlg(es)).toBe("RS256");
  });

  it("places a client_credentials app's token checks by its location_hint, fixed at creation; refused elsewhere", async () => {
    const SERVICE = { name: "Tokyo bot", type: "client_credentials", team_id: DEMO.team, scope: "ir.incidents:read" };
    const res = await operator("POST", "/apps", { ...SERVICE, location_hint: "apac" });
    expect(res.status).toBe(201);
    const placed = (await res.json()) as Json & { client_id: string };
    expect(placed.location_hint).toBe("apac");
    expect((await getClient(db, placed.client_id))?.locationHint).toBe("apac");
    expect(((await (await operator("GET", `/apps/${placed.client_id}`)).json()) as Json).location_hint).toBe("apac");
    const audited = await env.DB.prepare(
      "SELECT detail FROM audit_events WHERE client_id = ? AND kind = 'client.created'",
    )
      .bind(placed.client_id)
      .first<{ detail: string }>();
    expect(JSON.parse(audited?.detail ?? "{}")).toMatchObject({ location_hint: "apac" });
    // None asked: null, near whoever created it.
    const near = (await (await operator("POST", "/apps", SERVICE)).json()) as Json;
    expect(near.location_hint).toBeNull();

    await expectError(
      await operator("POST", "/apps", { ...SERVICE, location_hint: "moon" }),
      400,
      "invalid_client_metadata",
    );
    await expectError(
      await operator("POST", "/apps", { ...SERVICE, location_hint: 7 }),
      400,
      "invalid_client_metadata",
    );
    // An app for people has none (a person's tokens are checked by their own object), nor shows one.
    await expectError(
      await operator("POST", "/apps", { ...PERSONAL, location_hint: "weur" }),
      400,
      "invalid_client_metadata",
    );
    const personal = (await (await operator("POST", "/apps", PERSONAL)).json()) as Json;
    expect(personal).not.toHaveProperty("location_hint");
    // Its objects already exist where they were placed: a change is refused and nothing changes.
    const moved = await operator("PATCH", `/apps/${placed.client_id}`, { location_hint: "weur" });
    const body = (await moved.json()) as Json;
    expect({ status: moved.status, error: body.error }).toEqual({ status: 400, error: "invalid_request" });
    expect(body.error_description).toContain("fixed when the app is created");
    expect((await getClient(db, placed.client_id))?.locationHint).toBe("apac");
  });

  it("refuses an algorithm the server does not sign with, and on an app that gets no ID token; nothing changes", async () => {
    await expectError(
      await operator("POST", "/apps", { ...PERSONAL, id_token_signed_response_alg: "HS256" }),
      400,
      "invalid_client_metadata",
    );
    const created = (await (await operator("POST", "/apps", PERSONAL)).json()) as Json & { client_id: string };
    const refused = await operator("PATCH", `/apps/${created.client_id}`, { id_token_signed_response_alg: "none" });
    await expectError(refused, 400, "invalid_client_metadata");
    expect((await getClient(db, created.client_id))?.idTokenSignedResponseAlg).toBe("RS256");
    const service = await operator("POST", "/apps", {
      name: "Service",
      type: "client_credentials",
      team_id: DEMO.team,
      scope: "ir.incidents:read",
      id_token_signed_response_alg: "ES256",
    });
    await expectError(service, 400, "invalid_client_metadata");
  });
});
