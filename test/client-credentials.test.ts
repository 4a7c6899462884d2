/** grant_type=client_credentials (RFC 6749 §4.4) for admin-created apps and their service users. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { SERVICE_USER_SHARDS, serviceShardName, serviceShardOf } from "../src/durable/stub";
import { call, ORIGIN } from "./helpers";
import {
  adminApi,
  adminRequest,
  createServiceAppByAdmin,
  createTestClient,
  DEMO,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";
import { callsDuring, send } from "./round-trips";

describe("client_credentials", () => {
  it("issues a token whose sub is the app's service user, with all the app's scopes by default, and no refresh token (RFC 6749 §4.4.3)", async () => {
    const app = await createServiceAppByAdmin("Deploy bot", "ir.incidents:read oc.alerts:write");
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
    const app = await createServiceAppByAdmin("Deploy bot", "ir.incidents:read oc.alerts:write");
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
    const app = await createServiceAppByAdmin("Deploy bot");
    const res = await tokenRequest({ ...app, secret: "wrong" }, { grant_type: "client_credentials" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
  });

  it("binds aud to an allowed resource (RFC 8707)", async () => {
    const app = await createServiceAppByAdmin("Deploy bot");
    const ok = await tokenRequest(app, { grant_type: "client_credentials", resource: "https://api.example/mcp" });
    const body = (await ok.json()) as { access_token: string };
    const jwks = createLocalJWKSet((await (await call("/oauth/discovery/keys")).json()) as never);
    const { payload } = await jwtVerify(body.access_token, jwks, { audience: "https://api.example/mcp" });
    expect(payload.aud).toBe("https://api.example/mcp");
    const bad = await tokenRequest(app, { grant_type: "client_credentials", resource: "ftp://x.example/#frag" });
    expect(((await bad.json()) as { error: string }).error).toBe("invalid_target");
  });
});

/** The object of one shard of a service user, named as durable/stub.ts names it. */
function shardObject(serviceUserId: string, shard: number) {
  return env.USER_GRANTS.get(env.USER_GRANTS.idFromName(serviceShardName(serviceUserId, shard)));
}

const shards = Array.from({ length: SERVICE_USER_SHARDS }, (_, shard) => shard);

async function alarmOf(serviceUserId: string, shard: number): Promise<number | null> {
  return runInDurableObject(shardObject(serviceUserId, shard), (_instance, state) => state.storage.getAlarm());
}

async function accessToken(app: TestClient): Promise<{ token: string; shard: number }> {
  const res = await tokenRequest(app, { grant_type: "client_credentials" });
  const { access_token } = (await res.json()) as { access_token: string };
  return { token: access_token, shard: serviceShardOf(decodeJwt(access_token).jti!) };
}

function clientPost(app: TestClient, path: string, params: Record<string, string>): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${app.id}:${app.secret}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(params),
  });
}

describe("a service user's revocations are purged when they expire (UserGrants alarm)", () => {
  it("revoking one access token (RFC 7009) schedules the purge in the token's shard", async () => {
    const app = await createServiceAppByAdmin("Deploy bot");
    const { token, shard } = await accessToken(app);
    expect(await alarmOf(app.serviceUserId, shard)).toBeNull();
    expect((await clientPost(app, "/oauth/revoke", { token })).status).toBe(200);
    expect(await alarmOf(app.serviceUserId, shard)).toBeGreaterThan(Date.now());
  });

  it("revoking every token of the app schedules the purge in every shard", async () => {
    const app = await createServiceAppByAdmin("Deploy bot");
    for (const shard of shards) expect(await alarmOf(app.serviceUserId, shard)).toBeNull();
    const res = await call(`/api/admin/apps/${app.id}/revoke-tokens`, {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token-0123456789abcdefghijklmnop" },
    });
    expect(res.status).toBe(200);
    for (const shard of shards)
      expect(await alarmOf(app.serviceUserId, shard), `shard ${shard}`).toBeGreaterThan(Date.now());
  });
});

describe("a service user's tokens are checked by 16 objects, each by the shard its jti falls in", () => {
  /** Tokens until `count` different shards hold one each. */
  async function tokensInShards(app: TestClient, count: number): Promise<{ token: string; shard: number }[]> {
    const byShard = new Map<number, { token: string; shard: number }>();
    for (let i = 0; i < 200 && byShard.size < count; i++) {
      const t = await accessToken(app);
      byShard.set(t.shard, t);
    }
    expect(byShard.size).toBe(count);
    return [...byShard.values()];
  }

  const active = async (app: TestClient, token: string) =>
    (await (await clientPost(app, "/oauth/introspect", { token })).json()) as { active: boolean; sub?: string };

  it("every shard knows the service membership from the app's creation, so each token introspects active (RFC 7662 §2.2)", async () => {
    const app = await createServiceAppByAdmin("Busy gateway");
    for (const { token } of await tokensInShards(app, 4)) {
      expect(await active(app, token)).toMatchObject({
        active: true,
        sub: app.serviceUserId,
        scope: "ir.incidents:read",
      });
    }
    const holders = await Promise.all(
      shards.map((shard) =>
        runInDurableObject(shardObject(app.serviceUserId, shard), (_instance, state) =>
          state.storage.sql
            .exec("SELECT role FROM holder_teams WHERE team_id = ? AND removed = 0", DEMO.team)
            .toArray(),
        ),
      ),
    );
    expect(holders).toEqual(shards.map(() => [{ role: "service" }]));
  });

  it("revoking one token (RFC 7009 §2.1) ends it alone, in whichever shard; the others stay active", async () => {
    const app = await createServiceAppByAdmin("Busy gateway");
    const [first, second, third] = await tokensInShards(app, 3);
    expect((await clientPost(app, "/oauth/revoke", { token: second!.token })).status).toBe(200);
    expect(await active(app, second!.token)).toEqual({ active: false });
    expect((await active(app, first!.token)).active).toBe(true);
    expect((await active(app, third!.token)).active).toBe(true);
  });

  it("an app created with a location_hint asks for it in the first call to each of its 16 objects, which places them", async () => {
    const create = (hint?: string) =>
      callsDuring(() =>
        send(
          "/api/admin/apps",
          adminRequest("POST", {
            name: "Placed bot",
            type: "client_credentials",
            scope: "ir.incidents:read",
            team_id: DEMO.team,
            ...(hint ? { location_hint: hint } : {}),
          }),
        ),
      );
    const placed = (await create("apac")).filter((c) => c.binding === "USER_GRANTS");
    expect(placed.map((c) => c.kind)).toEqual(Array(SERVICE_USER_SHARDS).fill("publishHolder"));
    expect(new Set(placed.map((c) => c.objectId)).size).toBe(SERVICE_USER_SHARDS);
    expect(placed.map((c) => c.locationHint)).toEqual(Array(SERVICE_USER_SHARDS).fill("apac"));
    // None asked: no hint, so the objects start near whoever created the app.
    const near = (await create()).filter((c) => c.binding === "USER_GRANTS");
    expect(near).toHaveLength(SERVICE_USER_SHARDS);
    expect(near.every((c) => c.locationHint === undefined)).toBe(true);
  });

  it("deleting the app removes the service membership from every shard", async () => {
    const app = await createServiceAppByAdmin("Busy gateway");
    expect((await adminApi("DELETE", `/apps/${app.id}`)).status).toBe(204);
    for (const shard of shards) {
      const rows = await runInDurableObject(shardObject(app.serviceUserId, shard), (_instance, state) =>
        state.storage.sql.exec("SELECT removed FROM holder_teams WHERE team_id = ?", DEMO.team).toArray(),
      );
      expect(rows, `shard ${shard}`).toEqual([{ removed: 1 }]);
    }
  });
});
