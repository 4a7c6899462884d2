import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../src/config";
import { dbOf } from "../src/store/db";
import { forgetKeyset, keysetOf, rotateSigningKey } from "../src/tokens/signing-keys";
import { call } from "./helpers";

const settings = loadSettings(env);
const db = dbOf(env.DB);

async function publishedJwks() {
  const res = await call("/oauth/discovery/keys");
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
  return (await res.json()) as { keys: Record<string, unknown>[] };
}

async function signWithCurrent(alg: "ES256" | "RS256") {
  const ks = await keysetOf(db, settings);
  const key = ks.current[alg];
  return new SignJWT({ probe: true })
    .setProtectedHeader({ alg, kid: key.kid })
    .setIssuer(settings.issuer)
    .sign(key.privateKey);
}

describe("signing keys and JWKS", () => {
  it("creates an ES256 and an RS256 key on first use and publishes public parts only, with kid/use/alg", async () => {
    const { keys } = await publishedJwks();
    expect(keys.map((k) => k.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const k of keys) {
      expect(k.kid).toBeTypeOf("string");
      expect(k.use).toBe("sig");
      for (const privateMember of ["d", "p", "q", "dp", "dq", "qi"]) expect(k).not.toHaveProperty(privateMember);
    }
  });

  it("the published JWKS verifies signatures made by the current keys", async () => {
    const jwks = createLocalJWKSet(await publishedJwks());
    for (const alg of ["ES256", "RS256"] as const) {
      const { payload } = await jwtVerify(await signWithCurrent(alg), jwks, { issuer: settings.issuer });
      expect(payload.probe).toBe(true);
    }
  });

  it("stores private keys encrypted, never as plaintext JWK members", async () => {
    const { results } = await env.DB.prepare("SELECT * FROM signing_keys").all();
    expect(results.length).toBeGreaterThanOrEqual(2);
    for (const row of results) {
      const stored = JSON.stringify(row);
      expect(stored).not.toMatch(/"d"\s*:/);
      expect(String(row.private_jwk_encrypted)).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
      expect(String(row.public_jwk)).not.toContain('"d"');
    }
  });

  it("concurrent first use converges on one current key per algorithm", async () => {
    await env.DB.exec("DELETE FROM signing_keys");
    forgetKeyset();
    await Promise.all([1, 2, 3, 4].map(() => keysetOf(dbOf(env.DB), { ...settings })));
    const { results } = await env.DB.prepare(
      "SELECT alg, count(*) AS n FROM signing_keys WHERE status = 'current' GROUP BY alg",
    ).all<{ alg: string; n: number }>();
    expect(results).toEqual([
      { alg: "ES256", n: 1 },
      { alg: "RS256", n: 1 },
    ]);
  });

  it("past its 60 s TTL, one request reloads the keyset while concurrent ones keep using it (no burst of loads)", async () => {
    forgetKeyset();
    const loaded = await keysetOf(db, settings);
    loaded.loadedAt -= 61_000;
    const got = await Promise.all(Array.from({ length: 8 }, () => keysetOf(db, settings)));
    const reloaded = got.filter((k) => k !== loaded);
    expect(reloaded).toHaveLength(1);
    expect(Date.now() - reloaded[0]!.loadedAt).toBeLessThan(60_000);
    expect(await keysetOf(db, settings)).toBe(reloaded[0]);
  });

  it("a keyset more than 10 minutes old is never used, even while another request reloads it", async () => {
    forgetKeyset();
    const loaded = await keysetOf(db, settings);
    loaded.loadedAt -= 11 * 60_000;
    const got = await Promise.all(Array.from({ length: 4 }, () => keysetOf(db, settings)));
    expect(got.filter((k) => k === loaded)).toHaveLength(0);
  });

  it("rotation makes the new key current and keeps the old one published until its tokens expire", async () => {
    forgetKeyset();
    const before = await keysetOf(db, settings);
    const oldKid = before.current.ES256.kid;
    const oldToken = await signWithCurrent("ES256");
    const newKid = await rotateSigningKey(db, settings, "ES256");
    expect(newKid).not.toBe(oldKid);

    const after = await keysetOf(db, settings);
    expect(after.current.ES256.kid).toBe(newKid);
    const { keys } = await publishedJwks();
    expect(keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    await jwtVerify(oldToken, createLocalJWKSet({ keys: keys as never }));

    const row = await env.DB.prepare("SELECT status, publish_until FROM signing_keys WHERE kid = ?")
      .bind(oldKid)
      .first<{ status: string; publish_until: number }>();
    expect(row?.status).toBe("retired");
    // Published at least as long as the longest token it signed lives (access token, 1 hour).
    expect(row!.publish_until).toBeGreaterThanOrEqual(Date.now() + settings.accessTokenTtl * 1000);

    // Once that window has passed, the old key leaves the JWKS.
    await env.DB.prepare("UPDATE signing_keys SET publish_until = ? WHERE kid = ?")
      .bind(Date.now() - 1, oldKid)
      .run();
    forgetKeyset();
    const later = await keysetOf(db, settings);
    expect(later.jwks.keys.map((k) => k.kid)).not.toContain(oldKid);
  });

  it("a public issuer without KEY_ENCRYPTION_SECRET refuses to sign, with a clear error", async () => {
    forgetKeyset();
    const prod = loadSettings({ ...env, ISSUER: "https://auth.example.com" });
    await expect(keysetOf(db, prod)).rejects.toThrow(/KEY_ENCRYPTION_SECRET/);
    forgetKeyset();
  });
});

describe("key rotation through the admin API", () => {
  it("the operator token rotates both keys; the JWKS then publishes old and new", async () => {
    forgetKeyset();
    const before = (await publishedJwks()).keys.map((k) => k.kid);
    const res = await call("/api/admin/keys/rotate", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token-0123456789abcdefghijklmnop" },
    });
    expect(res.status).toBe(200);
    const { current } = (await res.json()) as { current: Record<string, string> };
    const after = (await publishedJwks()).keys.map((k) => k.kid);
    expect(after).toEqual(expect.arrayContaining([...before, current.ES256, current.RS256]));
    const audit = await env.DB.prepare("SELECT 1 FROM audit_events WHERE kind = 'keys.rotated'").first();
    expect(audit).not.toBeNull();
  });

  it("is refused without the operator token", async () => {
    const res = await call("/api/admin/keys/rotate", { method: "POST", headers: { Authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
  });
});
