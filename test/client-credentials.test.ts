/** grant_type=client_credentials (RFC 6749 §4.4) for admin-created apps and their service users. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { insertClientWithServiceUser } from "../src/store/clients";
import { dbOf } from "../src/store/db";
import { randomToken, sha256 } from "../src/tokens/secrets";
import { call, ORIGIN } from "./helpers";
import { createTestClient, DEMO, type TestClient, tokenRequest } from "./oauth-helpers";

async function createServiceApp(scopes: string[]): Promise<TestClient & { serviceUserId: string }> {
  const id = `app_${randomToken(9)}`;
  const secret = randomToken(32);
  const serviceUserId = `svc_${randomToken(9)}`;
  await insertClientWithServiceUser(
    dbOf(env.DB),
    {
      id,
      teamId: DEMO.team,
      origin: "admin",
      name: "Deploy bot",
      applicationType: "web",
      tokenEndpointAuthMethod: "client_secret_basic",
      secretHash: await sha256(secret),
      redirectUris: [],
      grantTypes: ["client_credentials"],
      scopes,
      serviceUserId,
    },
    "Deploy bot (service)",
  );
  return { id, secret, method: "client_secret_basic", redirectUri: "", serviceUserId };
}

describe("client_credentials", () => {
  it("issues a token whose sub is the app's service user, with all the app's scopes by default, and no refresh token (RFC 6749 §4.4.3)", async () => {
    const app = await createServiceApp(["ir.incidents:read", "oc.alerts:write"]);
    const res = await tokenRequest(app, { grant_type: "client_credentials" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body.refresh_token).toBeUndefined();
    expect(body.id_token).toBeUndefined();
    expect(body.scope).toBe("ir.incidents:read oc.alerts:write");
    const jwks = createLocalJWKSet((await (await call("/oauth/discovery/keys")).json()) as never);
    const { payload } = await jwtVerify(body.access_token!, jwks, { issuer: ORIGIN, audience: ORIGIN, typ: "at+jwt" });
    expect(payload).toMatchObject({ sub: app.serviceUserId, client_id: app.id, team_id: DEMO.team });
  });

  it("scope = requested ∩ the app's scopes; nothing in common → invalid_scope", async () => {
    const app = await createServiceApp(["ir.incidents:read", "oc.alerts:write"]);
    const narrowed = (await (
      await tokenRequest(app, { grant_type: "client_credentials", scope: "ir.incidents:read ir.services:write" })
    ).json()) as {
      scope: string;
    };
    expect(narrowed.scope).toBe("ir.incidents:read");
    const none = await tokenRequest(app, { grant_type: "client_credentials", scope: "ir.services:write" });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: string }).error).toBe("invalid_scope");
    const unknown = await tokenRequest(app, { grant_type: "client_credentials", scope: "admin:everything" });
    expect(((await unknown.json()) as { error: string }).error).toBe("invalid_scope");
  });

  it("is refused to clients that were not created for it by a team admin (unauthorized_client)", async () => {
    const registered = await createTestClient({ method: "client_secret_post" });
    const res = await tokenRequest(registered, { grant_type: "client_credentials" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("unauthorized_client");
  });

  it("a wrong secret is 401 invalid_client with a Basic challenge (RFC 6749 §5.2)", async () => {
    const app = await createServiceApp(["ir.incidents:read"]);
    const res = await tokenRequest({ ...app, secret: "wrong" }, { grant_type: "client_credentials" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
  });

  it("binds aud to an allowed resource (RFC 8707)", async () => {
    const app = await createServiceApp(["ir.incidents:read"]);
    const ok = await tokenRequest(app, { grant_type: "client_credentials", resource: "https://api.example/mcp" });
    const body = (await ok.json()) as { access_token: string };
    const jwks = createLocalJWKSet((await (await call("/oauth/discovery/keys")).json()) as never);
    const { payload } = await jwtVerify(body.access_token, jwks, { audience: "https://api.example/mcp" });
    expect(payload.aud).toBe("https://api.example/mcp");
    const bad = await tokenRequest(app, { grant_type: "client_credentials", resource: "ftp://x.example/#frag" });
    expect(((await bad.json()) as { error: string }).error).toBe("invalid_target");
  });
});

describe("a service user's revocations are purged when they expire (UserGrants alarm)", () => {
  async function alarmOf(userId: string): Promise<number | null> {
    const stub = env.USER_GRANTS.get(env.USER_GRANTS.idFromName(userId));
    return runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
  }

  it("revoking one access token (RFC 7009) schedules the purge", async () => {
    const app = await createServiceApp(["ir.incidents:read"]);
    const { access_token } = (await (await tokenRequest(app, { grant_type: "client_credentials" })).json()) as {
      access_token: string;
    };
    expect(await alarmOf(app.serviceUserId)).toBeNull();
    const res = await call("/oauth/revoke", {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`${app.id}:${app.secret}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ token: access_token }),
    });
    expect(res.status).toBe(200);
    expect(await alarmOf(app.serviceUserId)).toBeGreaterThan(Date.now());
  });

  it("revoking every token of the app schedules the purge too", async () => {
    const app = await createServiceApp(["ir.incidents:read"]);
    expect(await alarmOf(app.serviceUserId)).toBeNull();
    const res = await call(`/api/admin/apps/${app.id}/revoke-tokens`, {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token-0123456789abcdefghijklmnop" },
    });
    expect(res.status).toBe(200);
    expect(await alarmOf(app.serviceUserId)).toBeGreaterThan(Date.now());
  });
});
