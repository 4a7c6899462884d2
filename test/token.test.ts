/** POST /oauth/token: RFC 6749 §4.1.3, §5.2, §6; RFC 7636 §4.6; RFC 9068 §2; OIDC Core §2, §3.1.3.6; RFC 9700 §4.14. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import { readGrantToken, successorGrantToken } from "../src/tokens/grant-tokens";
import { atHash } from "../src/tokens/id-token";
import { sha256 } from "../src/tokens/secrets";
import { call, ORIGIN } from "./helpers";
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
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

async function jwks() {
  return createLocalJWKSet((await (await call("/oauth/discovery/keys")).json()) as never);
}

async function ok(res: Response): Promise<Tokens> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return JSON.parse(text) as Tokens;
}

async function oauthError(res: Response, status: number, code: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(JSON.parse(text).error).toBe(code);
}

async function fullGrant(client?: TestClient, user: string = DEMO.admin, extra: Record<string, string> = {}) {
  const c = client ?? (await createTestClient());
  const { code, verifier } = await obtainCode(c, user, extra);
  return { client: c, tokens: await ok(await exchangeCode(c, code, verifier)) };
}

/** Moves a user's grant state back in time, as if `ms` had passed. */
async function age(userId: string, table: "codes" | "refresh_tokens", column: string, ms: number) {
  const stub = env.USER_GRANTS.get(env.USER_GRANTS.idFromName(userId));
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(`UPDATE ${table} SET ${column} = ${column} - ?`, ms);
  });
}

describe("authorization_code grant (RFC 6749 §4.1.3)", () => {
  it("issues an RFC 9068 access token, an ID token and a refresh token", async () => {
    const { client, tokens } = await fullGrant(undefined, DEMO.admin, { nonce: "n-0S6_WzA2Mj" });
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toMatch(/^eoidc_rt_[\w-]{100,}$/);

    const keys = await jwks();
    const at = await jwtVerify(tokens.access_token, keys, { issuer: ORIGIN, audience: ORIGIN, typ: "at+jwt" });
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe("ES256"); // RFC 9068 §2.1
    expect(at.payload).toMatchObject({ sub: DEMO.admin, client_id: client.id, team_id: DEMO.team });
    for (const claim of ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"])
      expect(at.payload).toHaveProperty(claim);
    expect(at.payload.exp! - at.payload.iat!).toBe(3600);

    const id = await jwtVerify(tokens.id_token!, keys, { issuer: ORIGIN, audience: client.id });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe("RS256");
    expect(id.payload.nonce).toBe("n-0S6_WzA2Mj"); // OIDC Core §3.1.3.7 (11)
    expect(id.payload.auth_time).toBeTypeOf("number");
    expect(id.payload.at_hash).toBe(await atHash(tokens.access_token)); // OIDC Core §3.1.3.6
    expect(id.payload.email).toBe("admin@example.com");
    expect(id.payload).toMatchObject({ name: "Demo Admin", team_id: DEMO.team, role: "admin", on_call_role: "admin" });
  });

  it("signs the ID token with ES256 when the client registered it", async () => {
    const { tokens } = await fullGrant(await createTestClient({ idTokenAlg: "ES256" }));
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe("ES256");
  });

  it("gates identity claims by scope (OIDC Core §5.4): no profile/email scope, no such claims", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.member, { scope: "openid ir.incidents:read" });
    const tokens = await ok(await exchangeCode(client, code, verifier));
    const { payload } = await jwtVerify(tokens.id_token!, await jwks());
    expect(payload.email).toBeUndefined();
    expect(payload.role).toBeUndefined();
  });

  it("a replayed code fails and revokes every token issued from the first redemption (RFC 6749 §4.1.2)", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client);
    const first = await ok(await exchangeCode(client, code, verifier));
    // With env: waits for the work after the response, where the replay's audit event is written.
    await oauthError(await exchangeCode(client, code, verifier, {}, {}, env), 400, "invalid_grant");
    await oauthError(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: first.refresh_token! }),
      400,
      "invalid_grant",
    );
    const audit = await env.DB.prepare(
      "SELECT kind FROM audit_events WHERE kind = 'code.replay_detected' AND client_id = ?",
    )
      .bind(client.id)
      .first();
    expect(audit).not.toBeNull();
  });

  it("refuses a wrong PKCE verifier (RFC 7636 §4.6) and still lets the right one redeem", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client);
    await oauthError(await exchangeCode(client, code, `${verifier.slice(0, -1)}x`), 400, "invalid_grant");
    await oauthError(await exchangeCode(client, code, "short"), 400, "invalid_grant");
    await ok(await exchangeCode(client, code, verifier));
  });

  it("requires the code_verifier (PKCE for every client)", async () => {
    const client = await createTestClient();
    const { code } = await obtainCode(client);
    await oauthError(
      await tokenRequest(client, { grant_type: "authorization_code", code, redirect_uri: client.redirectUri }),
      400,
      "invalid_request",
    );
  });

  it("codes expire after 60 seconds", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client);
    await age(DEMO.admin, "codes", "expires_at", 61_000);
    await oauthError(await exchangeCode(client, code, verifier), 400, "invalid_grant");
  });

  it("binds the code to its client and redirect_uri (RFC 6749 §4.1.3)", async () => {
    const client = await createTestClient();
    const other = await createTestClient();
    const { code, verifier } = await obtainCode(client);
    await oauthError(
      await exchangeCode(other, code, verifier, { redirect_uri: client.redirectUri }),
      400,
      "invalid_grant",
    );
    await oauthError(
      await exchangeCode(client, code, verifier, { redirect_uri: "https://app.example/other" }),
      400,
      "invalid_grant",
    );
    await ok(await exchangeCode(client, code, verifier));
  });

  it("a resource the authorization was not for is invalid_target and does not spend the code (RFC 8707 §2.2)", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client);
    await oauthError(
      await exchangeCode(client, code, verifier, { resource: "https://other.example/api" }),
      400,
      "invalid_target",
    );
    await ok(await exchangeCode(client, code, verifier));
  });

  it("requires the redirect_uri that was in the authorization request (RFC 6749 §4.1.3)", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client);
    await oauthError(
      await tokenRequest(client, { grant_type: "authorization_code", code, code_verifier: verifier }),
      400,
      "invalid_grant",
    );
    await ok(await exchangeCode(client, code, verifier));
  });

  it("refuses forged and foreign codes without a 500", async () => {
    const client = await createTestClient();
    for (const code of ["eoidc_ac_AAAA", "x".repeat(5000), `eoidc_rt_${"A".repeat(120)}`, "💥"]) {
      await oauthError(await exchangeCode(client, code, "a".repeat(43)), 400, "invalid_grant");
    }
  });

  it("effective scope = granted ∩ the user's role ceiling (a scope never lifts a user above their role)", async () => {
    const client = await createTestClient({
      scopes: ["openid", "ir.incidents:read", "ir.incidents:write", "ir.services:write"],
    });
    const { code, verifier } = await obtainCode(client, DEMO.observer, {
      scope: "openid ir.incidents:read ir.incidents:write ir.services:write",
    });
    const tokens = await ok(await exchangeCode(client, code, verifier));
    expect(tokens.scope).toBe("openid ir.incidents:read");
  });
});

describe("refresh_token grant (RFC 6749 §6, RFC 9700 §4.14.2)", () => {
  it("rotates on every use: the new token works, the access token is fresh", async () => {
    const { client, tokens } = await fullGrant();
    const next = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    await ok(await tokenRequest(client, { grant_type: "refresh_token", refresh_token: next.refresh_token! }));
  });

  it("a retry inside the grace window gets the identical successor", async () => {
    const { client, tokens } = await fullGrant();
    const a = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    const b = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    expect(b.refresh_token).toBe(a.refresh_token);
  });

  it("derives each successor from its predecessor: one token, one successor; no token stored (RFC 9700 §4.14.2)", async () => {
    const settings = settingsOf(env);
    const route = { userId: DEMO.admin, familyId: "fam_probe", teamId: DEMO.team };
    const first = await successorGrantToken(settings, "eoidc_rt_a", route);
    expect(await successorGrantToken(settings, "eoidc_rt_a", route)).toBe(first);
    expect(await successorGrantToken(settings, "eoidc_rt_b", route)).not.toBe(first);
    expect(await readGrantToken(settings, "refresh", first)).toEqual(route);

    const { client, tokens } = await fullGrant();
    const next = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    const stub = env.USER_GRANTS.get(env.USER_GRANTS.idFromName(DEMO.admin));
    const hash = await sha256(tokens.refresh_token!);
    const stored = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT successor_hash FROM refresh_tokens WHERE hash = ?", hash).toArray(),
    );
    expect(stored).toEqual([{ successor_hash: await sha256(next.refresh_token!) }]);
  });

  it("reuse after the grace window revokes the whole family", async () => {
    const { client, tokens } = await fullGrant();
    const next = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    await age(DEMO.admin, "refresh_tokens", "rotated_at", 31_000);
    // With env: waits for the work after the response, where the reuse's audit event is written.
    await oauthError(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }, {}, env),
      400,
      "invalid_grant",
    );
    // The legitimate successor dies with its family.
    await oauthError(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: next.refresh_token! }),
      400,
      "invalid_grant",
    );
    const audit = await env.DB.prepare(
      "SELECT detail FROM audit_events WHERE kind = 'refresh.reuse_detected' AND client_id = ?",
    )
      .bind(client.id)
      .first();
    expect(audit).not.toBeNull();
  });

  it("reuse inside the grace window after the successor was itself used revokes the family (RFC 9700 §4.14.2)", async () => {
    const { client, tokens } = await fullGrant();
    const refresh = (token: string) => tokenRequest(client, { grant_type: "refresh_token", refresh_token: token });
    const second = await ok(await refresh(tokens.refresh_token!));
    const third = await ok(await refresh(second.refresh_token!));
    // Still inside the first token's grace window, but its successor is spent: only a thief replays now.
    await oauthError(await refresh(tokens.refresh_token!), 400, "invalid_grant");
    await oauthError(await refresh(third.refresh_token!), 400, "invalid_grant");
  });

  it("a grace-window retry whose successor no longer derives (server key changed) is refused, the family kept", async () => {
    const { client, tokens } = await fullGrant();
    const refresh = (token: string) => tokenRequest(client, { grant_type: "refresh_token", refresh_token: token });
    await ok(await refresh(tokens.refresh_token!));
    const hash = await sha256(tokens.refresh_token!);
    const stub = env.USER_GRANTS.get(env.USER_GRANTS.idFromName(DEMO.admin));
    // As after a KEY_ENCRYPTION_SECRET change: the stored successor is not the one the retry derives.
    const familyId = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const row = sql.exec("SELECT family_id, successor_hash FROM refresh_tokens WHERE hash = ?", hash).one();
      sql.exec("UPDATE refresh_tokens SET hash = hash || 'x' WHERE hash = ?", row.successor_hash);
      sql.exec("UPDATE refresh_tokens SET successor_hash = successor_hash || 'x' WHERE hash = ?", hash);
      return String(row.family_id);
    });
    await oauthError(await refresh(tokens.refresh_token!), 400, "invalid_grant");
    const family = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT revoked_at FROM families WHERE id = ?", familyId).one(),
    );
    expect(family.revoked_at).toBeNull();
  });

  it("ten concurrent refreshes with one token end with exactly one live successor", async () => {
    const { client, tokens } = await fullGrant();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }).then(ok),
      ),
    );
    const successors = new Set(results.map((r) => r.refresh_token));
    expect(successors.size).toBe(1);
    // …and the caller can still refresh with it.
    await ok(await tokenRequest(client, { grant_type: "refresh_token", refresh_token: [...successors][0]! }));
  });

  it("a refresh token presented by another client fails and revokes its family", async () => {
    const { client, tokens } = await fullGrant();
    const thief = await createTestClient();
    await oauthError(
      await tokenRequest(thief, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
      400,
      "invalid_grant",
    );
    await oauthError(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
      400,
      "invalid_grant",
    );
  });

  it("honours a narrower scope and refuses a wider one (RFC 6749 §6)", async () => {
    const { client, tokens } = await fullGrant();
    const narrow = await ok(
      await tokenRequest(client, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token!,
        scope: "openid",
      }),
    );
    expect(narrow.scope).toBe("openid");
    await oauthError(
      await tokenRequest(client, {
        grant_type: "refresh_token",
        refresh_token: narrow.refresh_token!,
        scope: "openid ir.incidents:write",
      }),
      400,
      "invalid_scope",
    );
  });

  it("a refused scope or resource does not spend the refresh token (RFC 6749 §6, RFC 8707 §2.2)", async () => {
    const { client, tokens } = await fullGrant();
    const refused: Record<string, string>[] = [
      { scope: "ir.incidents:write" },
      // A meta scope stands for what the grant holds within it: oc.all names nothing granted here.
      { scope: "oc.all" },
      { resource: "https://other.example/api" },
    ];
    for (const extra of refused) {
      const res = await tokenRequest(client, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token!,
        ...extra,
      });
      expect(res.status).toBe(400);
      expect(["invalid_scope", "invalid_target"]).toContain(((await res.json()) as { error: string }).error);
    }
    // Still unrotated: after the grace window it would be a reuse if any of those had rotated it.
    await age(DEMO.admin, "refresh_tokens", "rotated_at", 60_000);
    await ok(await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }));
  });

  it("an expired refresh token fails with invalid_grant (RFC 6749 §5.2, §6)", async () => {
    const { client, tokens } = await fullGrant();
    await age(DEMO.admin, "refresh_tokens", "expires_at", 366 * 24 * 3600_000);
    await oauthError(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
      400,
      "invalid_grant",
    );
  });

  it("answers a refresh without a new ID token (OIDC Core §12.2: it may be omitted)", async () => {
    const { client, tokens } = await fullGrant();
    const next = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    expect(next.id_token).toBeUndefined();
    expect(next.scope).toContain("openid");
  });

  it("a role downgrade applies at the next refresh", async () => {
    const { client, tokens } = await fullGrant(undefined, DEMO.member, {});
    expect(tokens.scope).toContain("ir.incidents:read");
    await setRoles(DEMO.member, { role: "none" });
    const next = await ok(
      await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! }),
    );
    expect(next.scope).not.toContain("ir.incidents:read");
    await setRoles(DEMO.member, { role: "member" });
  });

  // The code exchange reads the holder's membership from their UserGrants object in the same call
  // that redeems the code (no D1 read), so a downgrade between authorization and exchange applies.
  it("exchanges a code with the holder's role now: a downgrade after authorization already applies", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.member, {});
    await setRoles(DEMO.member, { role: "none", on_call_role: "observer" });
    try {
      const tokens = await ok(await exchangeCode(client, code, verifier));
      expect(tokens.scope).not.toContain("ir.incidents:read");
      const id = await jwtVerify(tokens.id_token!, await jwks(), { issuer: ORIGIN, audience: client.id });
      expect(id.payload).toMatchObject({ role: "none", on_call_role: "observer", name: "Demo Member" });
    } finally {
      await setRoles(DEMO.member, { role: "member", on_call_role: "responder" });
    }
  });
});

describe("token endpoint request rules (RFC 6749 §3.2, §5.2)", () => {
  it("refuses unknown grant types, missing grant_type, repeated parameters and other content types", async () => {
    const client = await createTestClient();
    await oauthError(await tokenRequest(client, { grant_type: "password" }), 400, "unsupported_grant_type");
    await oauthError(await tokenRequest(client, {}), 400, "invalid_request");
    await oauthError(
      await call("/oauth/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `grant_type=refresh_token&grant_type=client_credentials&client_id=${client.id}`,
      }),
      400,
      "invalid_request",
    );
    await oauthError(
      await call("/oauth/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }),
      400,
      "invalid_request",
    );
  });

  it("refuses oversized bodies before parsing them", async () => {
    const res = await call("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `grant_type=client_credentials&x=${"a".repeat(20_000)}`,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("unknown client → 401 invalid_client with WWW-Authenticate when Basic was used", async () => {
    const res = await tokenRequest(
      { id: "nobody", secret: "nothing", method: "client_secret_basic", redirectUri: "" },
      { grant_type: "client_credentials" },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_client");
  });

  it("answers CORS preflight for browser clients", async () => {
    const res = await call("/oauth/token", {
      method: "OPTIONS",
      headers: {
        Origin: "https://spa.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")?.split(",")).toContain("POST");
    // Fetch standard, CORS protocol: every header the request names must be allowed.
    const allowed = res.headers.get("access-control-allow-headers")?.toLowerCase().split(",") ?? [];
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "dpop"]));
    expect(res.headers.get("access-control-max-age")).toBe("86400");
  });

  it("lets a browser client read an error and its Basic challenge (CORS on 401, RFC 6749 §5.2)", async () => {
    const res = await tokenRequest(
      { id: "nobody", secret: "nothing", method: "client_secret_basic", redirectUri: "" },
      { grant_type: "client_credentials" },
      { Origin: "https://spa.example" },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase().split(",")).toContain("www-authenticate");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
  });

  it("sends CORS headers on a successful token response", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.admin);
    const res = await exchangeCode(client, code, verifier, {}, { Origin: "https://spa.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    await ok(res);
  });
});
