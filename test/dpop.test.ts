/**
 * DPoP (RFC 9449) at the authorization server: proofs at the token endpoint (§4.3, §5), bound
 * access and refresh tokens (§5, §6.1), server nonces (§8), replay (§11.1), UserInfo as a protected
 * resource (§7), and introspection's cnf (§6.2).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import { currentDpopNonce, NONCE_WINDOW_SECONDS } from "../src/oauth/dpop-nonce";
import { claimsOf, dpopKey, proof } from "./dpop-helpers";
import { call, ORIGIN } from "./helpers";
import {
  createServiceAppByAdmin,
  createTestClient,
  DEMO,
  exchangeCode,
  obtainCode,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";

interface Tokens {
  access_token: string;
  token_type: string;
  refresh_token?: string;
}

async function boundGrant(client?: TestClient, key?: Awaited<ReturnType<typeof dpopKey>>) {
  const c = client ?? (await createTestClient());
  const k = key ?? (await dpopKey());
  const { code, verifier } = await obtainCode(c, DEMO.admin);
  const res = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(k) });
  expect(res.status, await res.clone().text()).toBe(200);
  return { client: c, key: k, res, tokens: (await res.json()) as Tokens };
}

async function expectProofError(res: Response, code = "invalid_dpop_proof", pattern?: RegExp) {
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body.error).toBe(code);
  if (pattern) expect(body.error_description).toMatch(pattern);
}

describe("token endpoint (RFC 9449 §5)", () => {
  it("binds the access token to the proof's key: cnf.jkt and token_type DPoP (§5, §6.1)", async () => {
    const { key, res, tokens } = await boundGrant();
    expect(tokens.token_type).toBe("DPoP");
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    // §8.2: the answer carries the nonce to use next, and browsers may read it (CORS).
    expect(res.headers.get("DPoP-Nonce")).toBe(await currentDpopNonce(settingsOf(env)));
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("DPoP-Nonce");
  });

  it("accepts EdDSA (Ed25519) proofs as well as ES256 (§5.1)", async () => {
    const { key, tokens } = await boundGrant(undefined, await dpopKey("EdDSA"));
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it("without a DPoP header issues an unbound Bearer token", async () => {
    const c = await createTestClient();
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    const tokens = (await (await exchangeCode(c, code, verifier)).json()) as Tokens;
    expect(tokens.token_type).toBe("Bearer");
    expect(claimsOf(tokens.access_token).cnf).toBeUndefined();
  });

  it("refuses a proof for another method (htm, §4.3 point 8)", async () => {
    const c = await createTestClient();
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    const res = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(await dpopKey(), { htm: "GET" }) });
    await expectProofError(res, "invalid_dpop_proof", /htm/);
  });

  it("refuses a proof for another URI (htu, §4.3 point 9), yet normalises case, port and encoding", async () => {
    const c = await createTestClient();
    const key = await dpopKey();
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    const wrong = await exchangeCode(
      c,
      code,
      verifier,
      {},
      { DPoP: await proof(key, { htu: `${ORIGIN}/oauth/userinfo` }) },
    );
    await expectProofError(wrong, "invalid_dpop_proof", /htu/);
    // The refused request did not spend the code: the same code with an equivalent htu succeeds.
    const equivalent = "HTTP://127.0.0.1:8787/oauth/%74oken?query=ignored#fragment";
    const ok = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(key, { htu: equivalent }) });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it("refuses a stale or future iat (§4.3 point 11)", async () => {
    const c = await createTestClient();
    const key = await dpopKey();
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [now - 120, now + 120]) {
      const { code, verifier } = await obtainCode(c, DEMO.admin);
      const res = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(key, { iat }) });
      await expectProofError(res, "invalid_dpop_proof", /iat/);
    }
  });

  it("refuses a wrong typ, a private key in the header, and several proofs (§4.3 points 1, 4, 5)", async () => {
    const c = await createTestClient();
    const key = await dpopKey();
    const { exportJWK } = await import("jose");
    const privateJwk = await exportJWK(key.privateKey);
    const cases = [
      await proof(key, { typ: "JWT" }),
      await proof(key, { jwk: privateJwk }),
      `${await proof(key)}, ${await proof(key)}`,
    ];
    for (const dpop of cases) {
      const { code, verifier } = await obtainCode(c, DEMO.admin);
      await expectProofError(await exchangeCode(c, code, verifier, {}, { DPoP: dpop }));
    }
  });

  it("refuses a replayed proof jti (§11.1), checked in the holder's object", async () => {
    const c = await createTestClient();
    const key = await dpopKey();
    const once = await proof(key);
    const first = await obtainCode(c, DEMO.admin);
    expect((await exchangeCode(c, first.code, first.verifier, {}, { DPoP: once })).status).toBe(200);
    const second = await obtainCode(c, DEMO.admin);
    const replay = await exchangeCode(c, second.code, second.verifier, {}, { DPoP: once });
    await expectProofError(replay, "invalid_dpop_proof", /already used/);
  });

  it("requires a proof from a client that registered dpop_bound_access_tokens (§5.2)", async () => {
    const c = await createTestClient({ metadata: { dpop_bound_access_tokens: true } });
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    await expectProofError(await exchangeCode(c, code, verifier), "invalid_dpop_proof", /dpop_bound_access_tokens/);
    expect((await exchangeCode(c, code, verifier, {}, { DPoP: await proof(await dpopKey()) })).status).toBe(200);
  });
});

describe("server nonces (RFC 9449 §8)", () => {
  it("asks for a nonce with use_dpop_nonce and DPoP-Nonce, then accepts the retry (§8.1)", async () => {
    const c = await createTestClient();
    const key = await dpopKey();
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    const first = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(key, { nonce: undefined }) });
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: string }).error).toBe("use_dpop_nonce");
    const nonce = first.headers.get("DPoP-Nonce");
    expect(nonce).toBeTruthy();
    const retry = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(key, { nonce: nonce! }) });
    expect(retry.status, await retry.clone().text()).toBe(200);
  });

  it("rotates: the previous window's nonce still works, an older one gets use_dpop_nonce and the new nonce", async () => {
    const settings = settingsOf(env);
    const now = Math.floor(Date.now() / 1000);
    const previous = await currentDpopNonce(settings, now - NONCE_WINDOW_SECONDS);
    const older = await currentDpopNonce(settings, now - 2 * NONCE_WINDOW_SECONDS);
    expect(previous).not.toBe(older);
    const c = await createTestClient();
    const key = await dpopKey();
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    const stale = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(key, { nonce: older }) });
    expect(stale.status).toBe(400);
    expect(((await stale.json()) as { error: string }).error).toBe("use_dpop_nonce");
    expect(stale.headers.get("DPoP-Nonce")).toBe(await currentDpopNonce(settings));
    const overlap = await exchangeCode(c, code, verifier, {}, { DPoP: await proof(key, { nonce: previous }) });
    expect(overlap.status, await overlap.clone().text()).toBe(200);
  });
});

describe("bound refresh tokens (RFC 9449 §5)", () => {
  const refresh = (c: TestClient, refreshToken: string, dpop?: string) =>
    tokenRequest(c, { grant_type: "refresh_token", refresh_token: refreshToken }, dpop ? { DPoP: dpop } : {});

  it("a public client's refresh needs a proof with the same key, and stays bound", async () => {
    const { client, key, tokens } = await boundGrant();
    await expectProofError(await refresh(client, tokens.refresh_token!), "invalid_dpop_proof", /bound/);
    const other = await refresh(client, tokens.refresh_token!, await proof(await dpopKey()));
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: string }).error).toBe("invalid_grant");
    // Neither refusal spent the token: the right key still rotates it.
    const ok = await refresh(client, tokens.refresh_token!, await proof(key));
    expect(ok.status, await ok.clone().text()).toBe(200);
    const next = (await ok.json()) as Tokens;
    expect(next.token_type).toBe("DPoP");
    expect(claimsOf(next.access_token).cnf).toEqual({ jkt: key.jkt });
    await expectProofError(await refresh(client, next.refresh_token!), "invalid_dpop_proof", /bound/);
  });

  it("a confidential client's refresh token is not bound (it authenticates instead)", async () => {
    const c = await createTestClient({ method: "client_secret_basic" });
    const { tokens } = await boundGrant(c);
    const res = await refresh(c, tokens.refresh_token!);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as Tokens).token_type).toBe("Bearer");
  });
});

describe("UserInfo with DPoP (RFC 9449 §7)", () => {
  const USERINFO = `${ORIGIN}/oauth/userinfo`;
  const userinfo = (token: string, scheme: string, dpop?: string) =>
    call("/oauth/userinfo", { headers: { Authorization: `${scheme} ${token}`, ...(dpop ? { DPoP: dpop } : {}) } });

  it("serves a bound token presented with the DPoP scheme and a proof carrying ath (§7.1)", async () => {
    const { key, tokens } = await boundGrant();
    const dpop = await proof(key, { htm: "GET", htu: USERINFO, accessToken: tokens.access_token });
    const res = await userinfo(tokens.access_token, "DPoP", dpop);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(DEMO.admin);
    expect(res.headers.get("DPoP-Nonce")).toBeTruthy();
    // §11.1: the same proof again is a replay.
    const replay = await userinfo(tokens.access_token, "DPoP", dpop);
    expect(replay.status).toBe(401);
    expect(replay.headers.get("WWW-Authenticate")).toMatch(/^DPoP algs="[^"]*ES256[^"]*", error="invalid_dpop_proof"/);
  });

  it("20 concurrent requests with one proof: exactly one passes (atomic jti check, §11.1)", async () => {
    const { key, tokens } = await boundGrant();
    const dpop = await proof(key, { htm: "GET", htu: USERINFO, accessToken: tokens.access_token });
    const answers = await Promise.all(Array.from({ length: 20 }, () => userinfo(tokens.access_token, "DPoP", dpop)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 401)).toHaveLength(19);
  });

  it("asks for the server nonce at UserInfo too: 401 use_dpop_nonce in the DPoP challenge (§9)", async () => {
    const { key, tokens } = await boundGrant();
    const res = await userinfo(
      tokens.access_token,
      "DPoP",
      await proof(key, { htm: "GET", htu: USERINFO, accessToken: tokens.access_token, nonce: undefined }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^DPoP algs="[^"]+", error="use_dpop_nonce"/);
    expect(res.headers.get("DPoP-Nonce")).toBe(await currentDpopNonce(settingsOf(env)));
  });

  it("refuses a bound token used as a bearer token, with a DPoP challenge listing algs (§7.1)", async () => {
    const { tokens } = await boundGrant();
    const res = await userinfo(tokens.access_token, "Bearer");
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^DPoP algs="ES256 [^"]*EdDSA[^"]*", error="invalid_token"/);
  });

  it("refuses a missing or wrong ath (§4.3 point 12)", async () => {
    const { key, tokens } = await boundGrant();
    const missing = await userinfo(tokens.access_token, "DPoP", await proof(key, { htm: "GET", htu: USERINFO }));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toContain('error="invalid_dpop_proof"');
    const wrong = await userinfo(
      tokens.access_token,
      "DPoP",
      await proof(key, { htm: "GET", htu: USERINFO, accessToken: `${tokens.access_token}x` }),
    );
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error_description: string }).error_description).toMatch(/ath/);
  });

  it("refuses a proof signed by another key than the token is bound to (§7.1)", async () => {
    const { tokens } = await boundGrant();
    const dpop = await proof(await dpopKey(), { htm: "GET", htu: USERINFO, accessToken: tokens.access_token });
    const res = await userinfo(tokens.access_token, "DPoP", dpop);
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });

  it("refuses the DPoP scheme without a proof, and an unbound token sent as DPoP", async () => {
    const { tokens } = await boundGrant();
    const noProof = await userinfo(tokens.access_token, "DPoP");
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get("WWW-Authenticate")).toContain('error="invalid_dpop_proof"');
    const c = await createTestClient();
    const { code, verifier } = await obtainCode(c, DEMO.admin);
    const bearer = (await (await exchangeCode(c, code, verifier)).json()) as Tokens;
    const key = await dpopKey();
    const res = await userinfo(
      bearer.access_token,
      "DPoP",
      await proof(key, { htm: "GET", htu: USERINFO, accessToken: bearer.access_token }),
    );
    expect(res.status).toBe(401);
    // …while the same unbound token still works as a bearer token.
    expect((await userinfo(bearer.access_token, "Bearer")).status).toBe(200);
  });
});

describe("introspection of bound tokens (RFC 9449 §6.2)", () => {
  it("reports cnf.jkt and token_type DPoP for a bound access token, and cnf for a bound refresh token", async () => {
    const c = await createTestClient();
    const { key, tokens } = await boundGrant(c);
    const introspect = async (token: string) =>
      (await (
        await call("/oauth/introspect", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token, client_id: c.id }),
        })
      ).json()) as Record<string, unknown>;
    expect(await introspect(tokens.access_token)).toMatchObject({
      active: true,
      token_type: "DPoP",
      cnf: { jkt: key.jkt },
    });
    expect(await introspect(tokens.refresh_token!)).toMatchObject({ active: true, cnf: { jkt: key.jkt } });
  });
});

describe("introspection with a proof (RFC 9449 §11.1)", () => {
  it("checks a proof sent there and spends its jti in the holder's object: a replay is refused", async () => {
    const INTROSPECT = `${ORIGIN}/oauth/introspect`;
    const c = await createTestClient();
    const { key, tokens } = await boundGrant(c);
    const introspect = (token: string, dpop: string) =>
      call("/oauth/introspect", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", DPoP: dpop },
        body: new URLSearchParams({ token, client_id: c.id }),
      });
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const dpop = await proof(key, { htu: INTROSPECT });
      const first = await introspect(token, dpop);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ active: true, cnf: { jkt: key.jkt } });
      await expectProofError(await introspect(token, dpop), "invalid_dpop_proof", /already used/);
    }
    await expectProofError(await introspect(tokens.access_token, await proof(key)), "invalid_dpop_proof", /htu/);
  });
});

describe("metadata (RFC 9449 §5.1)", () => {
  it("advertises dpop_signing_alg_values_supported with ES256 and EdDSA", async () => {
    const md = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, string[]>;
    expect(md.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(["ES256", "EdDSA"]));
    expect(md.dpop_signing_alg_values_supported).not.toContain("none");
  });
});

describe("revocation with DPoP (RFC 7009 §2.1, RFC 9449 §11.1)", () => {
  const REVOKE = `${ORIGIN}/oauth/revoke`;
  const revoke = (c: TestClient, token: string, dpop?: string) =>
    call("/oauth/revoke", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...(dpop ? { DPoP: dpop } : {}) },
      body: new URLSearchParams({ token, client_id: c.id }),
    });
  const active = async (c: TestClient, token: string) =>
    (
      (await (
        await call("/oauth/introspect", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token, client_id: c.id }),
        })
      ).json()) as { active: boolean }
    ).active;

  it("a proof by another key leaves a bound token alone; the right key revokes it; a replayed proof is refused", async () => {
    const { client, key, tokens } = await boundGrant();
    const foreign = await revoke(client, tokens.refresh_token!, await proof(await dpopKey(), { htu: REVOKE }));
    expect(foreign.status).toBe(200);
    expect(await active(client, tokens.refresh_token!)).toBe(true);
    const dpop = await proof(key, { htu: REVOKE });
    expect((await revoke(client, tokens.refresh_token!, dpop)).status).toBe(200);
    expect(await active(client, tokens.refresh_token!)).toBe(false);
    const replay = await revoke(client, tokens.access_token, dpop);
    await expectProofError(replay, "invalid_dpop_proof", /already used/);
  });

  it("without a proof a bound token is revoked as before (clients send none there)", async () => {
    const { client, tokens } = await boundGrant();
    expect((await revoke(client, tokens.access_token)).status).toBe(200);
    expect(await active(client, tokens.access_token)).toBe(false);
  });
});

describe("client_credentials with DPoP (RFC 9449 §5, §11.1)", () => {
  it("binds the token; the proof's jti is single use in the client's own object", async () => {
    const c = await createServiceAppByAdmin("DPoP bot");
    const key = await dpopKey();
    const dpop = await proof(key);
    const first = await tokenRequest(c, { grant_type: "client_credentials" }, { DPoP: dpop });
    expect(first.status, await first.clone().text()).toBe(200);
    const tokens = (await first.json()) as Tokens;
    expect(tokens.token_type).toBe("DPoP");
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    await expectProofError(
      await tokenRequest(c, { grant_type: "client_credentials" }, { DPoP: dpop }),
      "invalid_dpop_proof",
      /already used/,
    );
  });

  it("a service token's proofs are spent in the object that checks it: introspection and revocation refuse a replay (RFC 7662 §2.1, RFC 7009 §2.1)", async () => {
    const c = await createServiceAppByAdmin("DPoP gateway");
    const key = await dpopKey();
    const tokens = (await (
      await tokenRequest(c, { grant_type: "client_credentials" }, { DPoP: await proof(key) })
    ).json()) as Tokens;
    const post = (path: string, dpop: string) =>
      call(path, {
        method: "POST",
        headers: {
          Authorization: `Basic ${btoa(`${c.id}:${c.secret}`)}`,
          "Content-Type": "application/x-www-form-urlencoded",
          DPoP: dpop,
        },
        body: new URLSearchParams({ token: tokens.access_token }),
      });
    const seen = await proof(key, { htu: `${ORIGIN}/oauth/introspect` });
    expect(await (await post("/oauth/introspect", seen)).json()).toMatchObject({ active: true, cnf: { jkt: key.jkt } });
    await expectProofError(await post("/oauth/introspect", seen), "invalid_dpop_proof", /already used/);
    const revoking = await proof(key, { htu: `${ORIGIN}/oauth/revoke` });
    expect((await post("/oauth/revoke", revoking)).status).toBe(200);
    await expectProofError(await post("/oauth/revoke", revoking), "invalid_dpop_proof", /already used/);
    const after = await post("/oauth/introspect", await proof(key, { htu: `${ORIGIN}/oauth/introspect` }));
    expect(await after.json()).toEqual({ active: false });
  });
});

describe("hostile DPoP headers and client assertions", () => {
  it("answer with an OAuth error, never a 500 (RFC 9449 §4.3, RFC 7523 §3)", async () => {
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const now = Math.floor(Date.now() / 1000);
    const claims = { htm: "POST", htu: `${ORIGIN}/oauth/token`, iat: now, jti: "x" };
    const hostile = [
      "not-a-jwt",
      "a.b.c",
      `${b64({ alg: "none", typ: "dpop+jwt", jwk: { kty: "EC" } })}.${b64(claims)}.`,
      `${b64({ alg: "HS256", typ: "dpop+jwt", jwk: { kty: "oct", k: "AAAA" } })}.${b64(claims)}.sig`,
      `${b64({ alg: "ES256", typ: "dpop+jwt", jwk: "string" })}.${b64(claims)}.sig`,
      `${b64({ alg: "ES256", typ: "dpop+jwt", jwk: { kty: "EC", crv: "P-256", x: "!!", y: "??" } })}.${b64(claims)}.sig`,
      `${"A".repeat(5000)}.B.C`,
    ];
    const c = await createTestClient();
    const keyed = await createTestClient({
      method: "private_key_jwt",
      metadata: { jwks: { keys: [(await dpopKey()).publicJwk] } },
    });
    for (const dpop of hostile) {
      const { code, verifier } = await obtainCode(c, DEMO.admin);
      const token = await exchangeCode(c, code, verifier, {}, { DPoP: dpop });
      expect(token.status, dpop.slice(0, 80)).toBe(400);
      expect(((await token.json()) as { error: string }).error).toBe("invalid_dpop_proof");
      const info = await call("/oauth/userinfo", { headers: { Authorization: "DPoP abc.def.ghi", DPoP: dpop } });
      expect(info.status).toBe(401);
      const assertion = await call("/oauth/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: keyed.id,
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: dpop,
        }),
      });
      expect(assertion.status).toBe(401);
      expect(((await assertion.json()) as { error: string }).error).toBe("invalid_client");
    }
  });
});
