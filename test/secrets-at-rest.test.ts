/**
 * Secrets at rest: after a full flow through the real endpoints, no D1 table and no Durable Object
 * record holds a plaintext client secret, registration access token, session cookie, code, refresh
 * token, access token or private key.
 */
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256 } from "../src/tokens/secrets";
import { call } from "./helpers";
import { DEMO, pkcePair } from "./oauth-helpers";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";

async function dumpD1(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  let dump = "";
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    dump += `${name}:${JSON.stringify(results)}\n`;
  }
  return dump;
}

async function dumpDurableObjects(): Promise<string> {
  let dump = "";
  for (const id of await listDurableObjectIds(env.USER_GRANTS)) {
    dump += await runInDurableObject(env.USER_GRANTS.get(id), (_instance, state) => {
      let out = "";
      const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray();
      for (const t of tables) {
        const name = String(t.name);
        if (name.startsWith("_cf_") || name.startsWith("sqlite_")) continue;
        out += `${name}:${JSON.stringify(state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray())}\n`;
      }
      return out;
    });
  }
  return dump;
}

describe("secrets at rest", () => {
  it("stores hashes and ciphertext only, after registration, admin apps, sign-in, authorization, tokens and refresh", async () => {
    const secrets: string[] = [];

    // Dynamic registration of a confidential client (RFC 7591): secret and registration token.
    const reg = await call("/oauth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.77" },
      body: JSON.stringify({
        client_name: "At-rest probe",
        redirect_uris: ["https://probe.example/cb"],
        token_endpoint_auth_method: "client_secret_post",
        grant_types: ["authorization_code", "refresh_token"],
        scope: "openid profile email ir.incidents:read",
      }),
    });
    expect(reg.status).toBe(201);
    const client = (await reg.json()) as {
      client_id: string;
      client_secret: string;
      registration_access_token: string;
    };
    secrets.push(client.client_secret, client.registration_access_token);

    // An admin-created client-credentials app, and its token.
    const created = await call("/api/admin/apps", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        name: "Probe bot",
        type: "client_credentials",
        scope: "ir.incidents:read",
        team_id: DEMO.team,
      }),
    });
    expect(created.status).toBe(201);
    const app = (await created.json()) as { client_id: string; client_secret: string };
    secrets.push(app.client_secret);
    const cc = await call("/oauth/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: `Basic ${btoa(`${app.client_id}:${app.client_secret}`)}`,
      },
      body: "grant_type=client_credentials",
    });
    secrets.push(((await cc.json()) as { access_token: string }).access_token);

    // Dev sign-in through the real form (session cookie), then authorization and consent.
    const signinPage = await call("/signin");
    const csrfCookie = /eoidc_csrf=([\w-]+)/.exec(signinPage.headers.get("set-cookie") ?? "")![1]!;
    const signedIn = await call("/signin/dev", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: `eoidc_csrf=${csrfCookie}` },
      body: new URLSearchParams({ email: "member@example.com", csrf: csrfCookie, return_to: "/" }),
      redirect: "manual",
    });
    const session = /eoidc_session=([\w-]+)/.exec(signedIn.headers.get("set-cookie") ?? "")![1]!;
    secrets.push(session);
    const cookie = `eoidc_session=${session}; eoidc_csrf=${csrfCookie}`;

    const { verifier, challenge } = await pkcePair();
    const query = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: "https://probe.example/cb",
      scope: "openid profile email ir.incidents:read",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "s",
    });
    const consent = await call(`/oauth/authorize?${query}`, { headers: { Cookie: cookie } });
    expect(consent.status).toBe(200);
    const decision = new URLSearchParams({ csrf: csrfCookie, decision: "approve" });
    for (const [k, v] of query) decision.set(k === "scope" ? "requested_scope" : k, v);
    for (const s of ["openid", "profile", "email", "ir.incidents:read"]) decision.append("scope", s);
    for (const area of ["signin", "ir"]) decision.append("area", area);
    const approved = await call("/oauth/authorize/decision", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
      body: decision,
      redirect: "manual",
    });
    expect(approved.status).toBe(302);
    const code = new URL(approved.headers.get("location")!).searchParams.get("code")!;
    secrets.push(code, verifier);

    const tokenForm = (params: Record<string, string>) =>
      call("/oauth/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret, ...params }),
      });
    const tokens = (await (
      await tokenForm({
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: "https://probe.example/cb",
      })
    ).json()) as { access_token: string; refresh_token: string; id_token: string };
    const refreshed = (await (
      await tokenForm({ grant_type: "refresh_token", refresh_token: tokens.refresh_token })
    ).json()) as {
      access_token: string;
      refresh_token: string;
    };
    secrets.push(
      tokens.access_token,
      tokens.refresh_token,
      tokens.id_token,
      refreshed.access_token,
      refreshed.refresh_token,
    );
    expect(secrets.every((s) => typeof s === "string" && s.length >= 20)).toBe(true);

    const stored = (await dumpD1()) + (await dumpDurableObjects());
    expect(stored).toContain("token_families"); // the dump did read the stores
    expect(stored).toContain("refresh_tokens");
    // …and would see a secret if it were there: its hash is (the one thing that should be).
    expect(stored).toContain(await sha256(client.client_secret));
    expect(stored).toContain(await sha256(refreshed.refresh_token));
    for (const secret of secrets) {
      expect(stored.includes(secret), `a plaintext secret (${secret.slice(0, 12)}…) is stored`).toBe(false);
      // Nor a recognisable piece of it (e.g. the signature part of a JWT).
      expect(stored.includes(secret.slice(-24))).toBe(false);
    }
    // Private key members never appear in the clear.
    expect(stored).not.toMatch(/\\?"d\\?":\\?"[\w-]{20,}/);
  });
});
