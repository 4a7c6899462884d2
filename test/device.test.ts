/**
 * Device authorization grant (RFC 8628): the device's request (§3.1–3.2), the page where a person
 * answers it (§3.3), polling (§3.4–3.5: authorization_pending, slow_down, access_denied,
 * expired_token), single redemption, user-code brute force (§5.1) and the resulting grant.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { USER_CODE_ENTRY_LIMITS } from "../src/limits";
import type { DeviceAuthorizationResponse } from "../src/oauth/device-authorization";
import { DEVICE_CODE_GRANT_TYPE } from "../src/oauth/grant-types";
import { normalizeUserCode, USER_CODE_ALPHABET } from "../src/oauth/user-code";
import { claimsOf, dpopKey, proof } from "./dpop-helpers";
import { call, ORIGIN } from "./helpers";
import { createTestClient, DEMO, sessionCookie, type TestClient, tokenRequest } from "./oauth-helpers";

const CSRF = "c".repeat(43);

type DeviceStart = DeviceAuthorizationResponse;

function deviceClient(options: Parameters<typeof createTestClient>[0] = {}) {
  return createTestClient({
    grantTypes: [DEVICE_CODE_GRANT_TYPE, "refresh_token"],
    scopes: ["openid", "profile", "email", "ir.incidents:read", "ir.incidents:write"],
    ...options,
  });
}

/** POST /oauth/device_authorization as the client (its own auth method). */
function deviceAuthorization(client: TestClient, params: Record<string, string> = {}, ip = "198.51.100.1") {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = {
    "Content-Type": "application/x-www-form-urlencoded",
    "CF-Connecting-IP": ip,
  };
  if (client.method === "client_secret_basic") {
    headers.Authorization = `Basic ${btoa(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret!)}`)}`;
  } else {
    body.set("client_id", client.id);
    if (client.method === "client_secret_post") body.set("client_secret", client.secret!);
  }
  return call("/oauth/device_authorization", { method: "POST", headers, body });
}

async function start(client: TestClient, params: Record<string, string> = {}): Promise<DeviceStart> {
  const res = await deviceAuthorization(client, { scope: "openid profile ir.incidents:read", ...params });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as DeviceStart;
}

function poll(client: TestClient, deviceCode: string, extra: Record<string, string> = {}) {
  return tokenRequest(client, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode, ...extra });
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(JSON.parse(text).error).toBe(code);
}

/** The pending request's object, for moving its clock (the worker reads Date.now()). */
function pendingObject(userCode: string) {
  return env.DEVICE_AUTHORIZATIONS.get(env.DEVICE_AUTHORIZATIONS.idFromName(normalizeUserCode(userCode)!));
}

async function stored(userCode: string): Promise<Record<string, unknown>> {
  return runInDurableObject(
    pendingObject(userCode),
    (_i, state) => state.storage.sql.exec("SELECT * FROM device_authorization").toArray()[0] as Record<string, unknown>,
  );
}

async function shiftClock(userCode: string, column: "expires_at" | "last_poll_at", ms: number): Promise<void> {
  await runInDurableObject(pendingObject(userCode), (_i, state) => {
    state.storage.sql.exec(`UPDATE device_authorization SET ${column} = ${column} - ?`, ms);
  });
}

/** A person's browser: a session cookie and a CSRF cookie, posting forms like the pages do. */
async function person(userId: string = DEMO.admin, ip = "203.0.113.7") {
  const cookie = `${await sessionCookie(userId)}; eoidc_csrf=${CSRF}`;
  const post = (path: string, fields: [string, string][]) =>
    call(path, {
      method: "POST",
      headers: {
        Cookie: cookie,
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: ORIGIN,
        "CF-Connecting-IP": ip,
      },
      body: new URLSearchParams(fields),
      redirect: "manual",
    });
  return {
    cookie,
    post,
    enterCode: (userCode: string) =>
      post("/device", [
        ["csrf", CSRF],
        ["user_code", userCode],
      ]),
    /** Enters the code, then answers the consent page it shows with the boxes it ticks. */
    async answer(userCode: string, decision: "approve" | "deny", untick: string[] = []) {
      const consent = await this.enterCode(userCode);
      const html = await consent.text();
      expect(consent.status, html).toBe(200);
      const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
        (m) => [m[1]!, m[2]!.replaceAll("&amp;", "&")] as [string, string],
      );
      const ticked = [...html.matchAll(/name="scope" value="([^"]+)" checked/g)]
        .map((m) => m[1]!)
        .filter((s) => !untick.includes(s));
      // The area switches ticked as the page comes: a browser posts them with the per-scope boxes.
      const areas = [...html.matchAll(/name="area" value="([^"]+)" checked/g)].map((m) => m[1]!);
      const res = await post("/device/decision", [
        ...hidden,
        ...areas.map((a) => ["area", a] as [string, string]),
        ...ticked.map((s) => ["scope", s] as [string, string]),
        ["decision", decision],
      ]);
      return { consentHtml: html, res, html: await res.text() };
    },
  };
}

describe("device authorization request (RFC 8628 §3.1–3.2)", () => {
  it("metadata advertises the endpoint and the grant type (RFC 8628 §4)", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const meta = (await (await call(path)).json()) as Record<string, unknown>;
      expect(meta.device_authorization_endpoint).toBe(`${ORIGIN}/oauth/device_authorization`);
      expect(meta.grant_types_supported).toContain(DEVICE_CODE_GRANT_TYPE);
    }
  });

  it("answers device_code, an XXXX-XXXX user code from the alphabet, the verification URIs, 600 s and 5 s", async () => {
    const client = await deviceClient();
    const body = await start(client);
    expect(body.user_code).toMatch(new RegExp(`^[${USER_CODE_ALPHABET}]{4}-[${USER_CODE_ALPHABET}]{4}$`));
    expect(body.device_code).toMatch(/^eoidc_dc_/);
    expect(body.verification_uri).toBe(`${ORIGIN}/device`);
    expect(body.verification_uri_complete).toBe(`${ORIGIN}/device?user_code=${body.user_code}`);
    expect(body.expires_in).toBe(600);
    expect(body.interval).toBe(5);
    // Two requests never share a code.
    expect((await start(client)).user_code).not.toBe(body.user_code);
  });

  it("answers CORS for browser and MCP clients, like the token endpoint", async () => {
    const pre = await call("/oauth/device_authorization", {
      method: "OPTIONS",
      headers: { Origin: "https://cli.example", "Access-Control-Request-Method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("the alphabet has no look-alikes: no 0, 1, 8 or 9 (RFC 8628 §6.1)", () => {
    expect(USER_CODE_ALPHABET).toHaveLength(32);
    for (const ch of "0189") expect(USER_CODE_ALPHABET).not.toContain(ch);
    expect(normalizeUserCode("abcd efgh")).toBe("ABCDEFGH");
    expect(normalizeUserCode("ABCD-EFG0")).toBeNull();
  });

  it("refuses a client that did not register the grant: unauthorized_client (RFC 6749 §5.2)", async () => {
    const codeOnly = await createTestClient();
    await expectError(await deviceAuthorization(codeOnly, { scope: "openid" }), 400, "unauthorized_client");
  });

  it("authenticates a confidential client with the one client-authentication function (RFC 8628 §3.1)", async () => {
    const client = await deviceClient({ method: "client_secret_basic" });
    await start(client);
    const wrong = { ...client, secret: "not-the-secret" };
    const res = await deviceAuthorization(wrong);
    await expectError(res.clone(), 401, "invalid_client");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
  });

  it("refuses unknown and unregistered scopes, and a bad resource, with the RFC error", async () => {
    const client = await deviceClient();
    await expectError(await deviceAuthorization(client, { scope: "nope" }), 400, "invalid_scope");
    await expectError(await deviceAuthorization(client, { scope: "oc.alerts:read" }), 400, "invalid_scope");
    await expectError(await deviceAuthorization(client, { resource: "not a uri" }), 400, "invalid_target");
    const res = await call("/oauth/device_authorization", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    await expectError(res, 400, "invalid_request");
  });
});

describe("polling (RFC 8628 §3.4–3.5)", () => {
  it("authorization_pending, then slow_down raising the interval by 5 s each time polls come too fast", async () => {
    const client = await deviceClient();
    const { device_code, user_code } = await start(client);
    await expectError(await poll(client, device_code), 400, "authorization_pending");
    await expectError(await poll(client, device_code), 400, "slow_down");
    expect((await stored(user_code)).interval_seconds).toBe(10);
    await expectError(await poll(client, device_code), 400, "slow_down");
    expect((await stored(user_code)).interval_seconds).toBe(15);
    // Waiting the (raised) interval is pending again, and the interval stays raised.
    await shiftClock(user_code, "last_poll_at", 15_000);
    await expectError(await poll(client, device_code), 400, "authorization_pending");
    expect((await stored(user_code)).interval_seconds).toBe(15);
    await shiftClock(user_code, "last_poll_at", 10_000);
    await expectError(await poll(client, device_code), 400, "slow_down");
  });

  it("expired_token once expires_in has passed; the code can no longer be entered either", async () => {
    const client = await deviceClient();
    const { device_code, user_code } = await start(client);
    await shiftClock(user_code, "expires_at", 600_001);
    await expectError(await poll(client, device_code), 400, "expired_token");
    const res = await (await person()).enterCode(user_code);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("not valid");
  });

  it("invalid_grant for a forged, foreign or missing device code; invalid_request without one", async () => {
    const client = await deviceClient();
    const other = await deviceClient();
    const { device_code } = await start(client);
    await expectError(await poll(other, device_code), 400, "invalid_grant");
    await expectError(await poll(client, `${device_code.slice(0, -3)}AAA`), 400, "invalid_grant");
    await expectError(await poll(client, `eoidc_dc_${"z".repeat(64)}.${"a".repeat(43)}`), 400, "invalid_grant");
    await expectError(await poll(client, "garbage"), 400, "invalid_grant");
    await expectError(await tokenRequest(client, { grant_type: DEVICE_CODE_GRANT_TYPE }), 400, "invalid_request");
    // A client without the grant may not poll at all.
    await expectError(await poll(await createTestClient(), device_code), 400, "unauthorized_client");
  });
});

describe("the /device page (RFC 8628 §3.3)", () => {
  it("sends a visitor who is not signed in to sign in, coming back with the code", async () => {
    const res = await call("/device?user_code=abcd-efgh", { redirect: "manual" });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!, ORIGIN);
    expect(location.pathname).toBe("/signin");
    expect(location.searchParams.get("return_to")).toBe("/device?user_code=ABCD-EFGH");
  });

  it("prefills the code from verification_uri_complete and carries CSRF protection and page headers", async () => {
    const client = await deviceClient();
    const { verification_uri_complete, user_code } = await start(client);
    const res = await call(new URL(verification_uri_complete).pathname + new URL(verification_uri_complete).search, {
      headers: { Cookie: await sessionCookie(DEMO.admin) },
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain(`value="${user_code}"`);
    expect(html).toMatch(/name="csrf" value="[\w-]{43}"/);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  it("shows the authorization endpoint's consent page: client name, scopes in plain words, and that a device asked", async () => {
    const client = await deviceClient();
    const { user_code } = await start(client);
    const res = await (await person()).enterCode(user_code.toLowerCase().replace("-", ""));
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain("Allow <strong>Test App</strong> to access your account?");
    expect(html).toContain("View incident response incidents");
    expect(html).toContain("A device asked for this");
    expect(html).toContain(user_code);
    expect(html).toContain('action="/device/decision"');
  });

  it("a decision without the CSRF token changes nothing", async () => {
    const client = await deviceClient();
    const { user_code, device_code } = await start(client);
    const browser = await person();
    const html = await (await browser.enterCode(user_code)).text();
    const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
    const res = await browser.post("/device/decision", [
      ["user_code", normalizeUserCode(user_code)!],
      ["request", request],
      ["decision", "approve"],
      ["scope", "openid"],
    ]);
    expect(res.status).toBe(403);
    await expectError(await poll(client, device_code), 400, "authorization_pending");
  });

  it("denial: the device gets access_denied (RFC 8628 §3.5) and the audit log says so", async () => {
    const client = await deviceClient();
    const { user_code, device_code } = await start(client);
    const { res, html } = await (await person()).answer(user_code, "deny");
    expect(res.status).toBe(200);
    expect(html).toContain("Access denied");
    await expectError(await poll(client, device_code), 400, "access_denied");
    // The code is answered: it cannot be entered again.
    expect((await (await person()).enterCode(user_code)).status).toBe(400);
    const audit = await env.DB.prepare("SELECT kind, actor_user_id FROM audit_events WHERE client_id = ?")
      .bind(client.id)
      .all();
    expect(audit.results).toContainEqual({ kind: "device.denied", actor_user_id: DEMO.admin });
  });
});

describe("approval and redemption (RFC 8628 §3.5, RFC 6749 §5.1)", () => {
  it("issues access, refresh and ID tokens for what the person ticked; refresh works; connected apps lists it", async () => {
    const client = await deviceClient();
    const { user_code, device_code } = await start(client, { scope: "openid profile email ir.incidents:read" });
    const browser = await person(DEMO.member);
    const { html } = await browser.answer(user_code, "approve", ["email"]);
    expect(html).toContain("Device connected");
    const res = await poll(client, device_code);
    const tokens = (await res.json()) as Record<string, string>;
    expect(res.status, JSON.stringify(tokens)).toBe(200);
    expect(tokens.scope).toBe("openid profile ir.incidents:read");
    const access = decodeJwt(tokens.access_token!);
    expect(access.sub).toBe(DEMO.member);
    expect(access.client_id).toBe(client.id);
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken.aud).toBe(client.id);
    expect(idToken.email).toBeUndefined();
    expect(typeof idToken.auth_time).toBe("number");
    expect(tokens.refresh_token).toMatch(/^eoidc_rt_/);
    const refreshed = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    expect(refreshed.status).toBe(200);
    const apps = await (await call("/settings/connected-apps", { headers: { Cookie: browser.cookie } })).text();
    expect(apps).toContain("Test App");
    const audit = await env.DB.prepare("SELECT kind FROM audit_events WHERE client_id = ? AND kind = 'device.approved'")
      .bind(client.id)
      .all();
    expect(audit.results).toHaveLength(1);
  });

  it("a second redemption fails with invalid_grant and revokes what the first one issued (as RFC 6749 §4.1.2)", async () => {
    const client = await deviceClient();
    const { user_code, device_code } = await start(client);
    await (await person()).answer(user_code, "approve");
    const first = (await (await poll(client, device_code)).json()) as Record<string, string>;
    expect(first.refresh_token).toBeTruthy();
    await expectError(await poll(client, device_code), 400, "invalid_grant");
    const refresh = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: first.refresh_token! });
    await expectError(refresh, 400, "invalid_grant");
  });

  it("a poll with a DPoP proof binds the tokens to its key, as for codes (RFC 9449 §5): cnf.jkt, token_type DPoP", async () => {
    const client = await deviceClient();
    const { user_code, device_code } = await start(client);
    await (await person()).answer(user_code, "approve");
    const key = await dpopKey();
    const res = await tokenRequest(
      client,
      { grant_type: DEVICE_CODE_GRANT_TYPE, device_code },
      { DPoP: await proof(key) },
    );
    const tokens = (await res.json()) as Record<string, string>;
    expect(res.status, JSON.stringify(tokens)).toBe(200);
    expect(tokens.token_type).toBe("DPoP");
    expect(claimsOf(tokens.access_token!).cnf).toEqual({ jkt: key.jkt });
    // A public client's refresh token is bound too: refreshing without a proof by that key fails (§5).
    const refresh = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    await expectError(refresh, 400, "invalid_dpop_proof");
  });

  it("50 parallel polls of an approved code: exactly one success", async () => {
    const client = await deviceClient();
    const { user_code, device_code } = await start(client);
    await (await person()).answer(user_code, "approve");
    const responses = await Promise.all(Array.from({ length: 50 }, () => poll(client, device_code)));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Record<string, string>>));
    expect(bodies.filter((b) => b.access_token)).toHaveLength(1);
    expect(bodies.filter((b) => b.error === "invalid_grant")).toHaveLength(49);
  });

  it("50 parallel polls while pending: one authorization_pending, the rest slow_down, none succeeds", async () => {
    const client = await deviceClient();
    const { device_code } = await start(client);
    const bodies = await Promise.all(
      Array.from({ length: 50 }, async () => (await (await poll(client, device_code)).json()) as { error: string }),
    );
    expect(bodies.filter((b) => b.error === "authorization_pending")).toHaveLength(1);
    expect(bodies.filter((b) => b.error === "slow_down")).toHaveLength(49);
  });

  it("a code can be answered once: a second approval is refused and leaves no extra grant", async () => {
    const client = await deviceClient();
    const { user_code } = await start(client);
    const browser = await person();
    const consent = await (await browser.enterCode(user_code)).text();
    const hidden = [...consent.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
      (m) => [m[1]!, m[2]!] as [string, string],
    );
    const answer = () =>
      browser.post("/device/decision", [...hidden, ["area", "signin"], ["scope", "openid"], ["decision", "approve"]]);
    const [a, b] = await Promise.all([answer(), answer()]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const families = await env.DB.prepare(
      "SELECT count(*) AS n FROM token_families WHERE client_id = ? AND revoked_at IS NULL",
    )
      .bind(client.id)
      .first<{ n: number }>();
    expect(families?.n).toBe(1);
  });

  it("honours resource (RFC 8707): aud is the resource (and the issuer, openid being granted); another resource at the token endpoint is invalid_target", async () => {
    const client = await deviceClient();
    const resource = "https://api.example.com/mcp";
    const { user_code, device_code } = await start(client, { resource });
    await (await person()).answer(user_code, "approve");
    await expectError(
      await poll(client, device_code, { resource: "https://other.example.com" }),
      400,
      "invalid_target",
    );
    const tokens = (await (await poll(client, device_code, { resource })).json()) as Record<string, string>;
    // openid was granted, so the issuer is an audience too (UserInfo takes the token, RFC 9068 §4).
    expect(decodeJwt(tokens.access_token!).aud).toEqual([resource, ORIGIN]);
  });
});

describe("storage of pending requests", () => {
  const tables = (userCode: string) =>
    runInDurableObject(pendingObject(userCode), (_i, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );

  it("a guessed code leaves nothing stored in the object it names", async () => {
    expect((await (await person(DEMO.member, "203.0.113.60")).enterCode("CCCC-CCCC")).status).toBe(400);
    expect(await tables("CCCC-CCCC")).toEqual([]);
  });

  it("the alarm deletes an expired request; the code can then name a new one", async () => {
    const client = await deviceClient();
    const { user_code } = await start(client);
    expect(await runDurableObjectAlarm(pendingObject(user_code))).toBe(true);
    expect(await stored(user_code)).toBeDefined(); // not expired yet: kept, and the alarm set again
    expect(await runInDurableObject(pendingObject(user_code), (_i, state) => state.storage.getAlarm())).toBeGreaterThan(
      Date.now(),
    );
    await shiftClock(user_code, "expires_at", 600_001);
    await runInDurableObject(pendingObject(user_code), (_i, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(pendingObject(user_code))).toBe(true);
    expect(await tables(user_code)).toEqual([]);
  });
});

describe("user-code brute force (RFC 8628 §5.1)", () => {
  it(`a session gets ${USER_CODE_ENTRY_LIMITS.perSession.limit} tries, then 429 with Retry-After`, async () => {
    const browser = await person(DEMO.observer, "203.0.113.80");
    for (let i = 0; i < USER_CODE_ENTRY_LIMITS.perSession.limit; i++) {
      expect((await browser.enterCode("AAAA-AAAA")).status).toBe(400);
    }
    const limited = await browser.enterCode("AAAA-AAAA");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.text()).toContain("Too many codes");
    // Even a right code is refused now: the limit is checked before the code is looked at.
    const { user_code } = await start(await deviceClient());
    expect((await browser.enterCode(user_code)).status).toBe(429);
  });

  it(`an address gets ${USER_CODE_ENTRY_LIMITS.perIp.limit} tries an hour across sessions`, async () => {
    const ip = "203.0.113.90";
    const sessionsNeeded = Math.ceil(USER_CODE_ENTRY_LIMITS.perIp.limit / USER_CODE_ENTRY_LIMITS.perSession.limit);
    let tries = 0;
    for (let s = 0; s < sessionsNeeded; s++) {
      const browser = await person(DEMO.member, ip);
      for (let i = 0; i < USER_CODE_ENTRY_LIMITS.perSession.limit && tries < USER_CODE_ENTRY_LIMITS.perIp.limit; i++) {
        expect((await browser.enterCode("BBBB-BBBB")).status).toBe(400);
        tries++;
      }
    }
    const fresh = await person(DEMO.member, ip);
    expect((await fresh.enterCode("BBBB-BBBB")).status).toBe(429);
    // Another address with a fresh session is not affected.
    expect((await (await person(DEMO.member, "203.0.113.91")).enterCode("BBBB-BBBB")).status).toBe(400);
  });

  it("the tries reach KV after the page is answered, and tries other isolates counted there are honoured", async () => {
    const hour = Math.floor(Date.now() / 1000 / 3600);
    const ip = "203.0.113.92";
    const browser = await person(DEMO.member, ip);
    for (let i = 0; i < 3; i++) expect((await browser.enterCode("CCCC-CCCC")).status).toBe(400);
    // Written back in waitUntil, at most once a second per key: the third try lands within about two.
    const deadline = Date.now() + 5000;
    while ((await env.RATE_LIMIT.get(`device-ip:${ip}:${hour}`)) !== "3" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await env.RATE_LIMIT.get(`device-ip:${ip}:${hour}`)).toBe("3");
    // An address another isolate has already counted to the limit is refused here on its first try.
    const spent = "203.0.113.93";
    await env.RATE_LIMIT.put(`device-ip:${spent}:${hour}`, String(USER_CODE_ENTRY_LIMITS.perIp.limit));
    expect((await (await person(DEMO.member, spent)).enterCode("CCCC-CCCC")).status).toBe(429);
  });
});
