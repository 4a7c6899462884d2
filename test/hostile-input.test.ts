/**
 * Hostile input at every endpoint (property-based, fixed seed): wrong methods and content types,
 * malformed and deeply nested JSON, oversized bodies and parameters, repeated parameters, invalid
 * UTF-8 and control characters, header injection, random tokens and JWTs with alg none or a foreign
 * key. Every answer is a 4xx with an OAuth-style error (or an HTML error page where a person is
 * the audience), never a 500, never a stack trace — and nothing stored changes.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "./helpers";

const SEED = 20261125;
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

const ENDPOINTS = [
  "/oauth/token",
  "/oauth/register",
  "/oauth/revoke",
  "/oauth/introspect",
  "/oauth/userinfo",
  "/oauth/authorize",
  "/oauth/authorize/decision",
  "/oauth/register/someclient",
  "/api/admin/apps",
  "/api/admin/apps/someclient",
  "/api/admin/audit",
  "/api/admin/members",
  "/api/admin/members/usr_demo_member",
  "/api/admin/invitations",
  "/api/admin/invitations/someinvitation",
  "/settings/members",
  "/settings/members/usr_demo_member/remove",
  "/settings/members/invitations",
  "/signin/dev",
  "/signin/callback",
  "/signout",
  "/oauth/device_authorization",
  "/device",
  "/device/decision",
  "/oauth/end_session",
];

/** Everything stored in D1, as one string: it must be identical before and after the onslaught. */
async function snapshot(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables)
    parts.push(`${name}:${JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)}`);
  return parts.join("\n");
}

let foreignJwt = "";
let noneJwt = "";
beforeAll(async () => {
  // Signing keys are created on first use: make them exist before the "nothing changed" snapshot.
  expect((await call("/oauth/discovery/keys")).status).toBe(200);
  const { privateKey } = await generateKeyPair("ES256");
  const claims = { sub: "usr_demo_admin", client_id: "x", scope: "openid", team_id: "team_demo", jti: "j" };
  foreignJwt = await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "foreign" })
    .setIssuer("http://127.0.0.1:8787")
    .setAudience("http://127.0.0.1:8787")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  noneJwt = `${b64({ alg: "none", typ: "at+jwt" })}.${b64({ ...claims, iss: "http://127.0.0.1:8787", exp: 4e9 })}.`;
});

const nasty = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(
    "\u0000",
    "\r\nSet-Cookie: x=1",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00%0d%0a",
    "javascript:alert(1)",
  ),
  fc.constant("A".repeat(70_000)),
);

const deepJson = fc.integer({ min: 50, max: 5000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);
const jsonBody = fc.oneof(
  fc.json({ maxDepth: 4 }),
  deepJson,
  fc.constant('{"redirect_uris": ["https://a.example/cb"], "redirect_uris": "x"}'),
  fc.constant(`{"redirect_uris": [${Array.from({ length: 5000 }, () => '"https://a.example/cb"').join(",")}]}`),
  fc.constant('{"client_name": "\\ud800", "redirect_uris": ["https://\\u0430pple.example/cb"]}'),
  nasty,
);

const formBody = fc.oneof(
  fc
    .dictionary(
      fc.constantFrom(
        "grant_type",
        "code",
        "client_id",
        "client_secret",
        "token",
        "refresh_token",
        "scope",
        "redirect_uri",
        "resource",
        "csrf",
        "email",
        "access_token",
        "code_verifier",
      ),
      nasty,
    )
    .map((d) => new URLSearchParams(d).toString()),
  fc.constant("grant_type=authorization_code&grant_type=refresh_token&client_id=a&client_id=b"),
  fc.constant("%zz%%=&&==="),
  fc.constant(`token=${"x".repeat(40_000)}`),
  nasty,
);

const request = fc.record({
  path: fc.constantFrom(...ENDPOINTS),
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
  contentType: fc.constantFrom(
    undefined,
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/json; charset=utf-16",
  ),
  body: fc.oneof(
    jsonBody,
    formBody,
    fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0xff, 0xfe, ...b])),
  ),
  query: fc.oneof(
    fc.constant(""),
    formBody.map((f) => (typeof f === "string" ? f.slice(0, 3000) : "")),
  ),
  auth: fc.oneof(
    fc.constant(undefined),
    fc.constant("Basic %%%"),
    fc.constant("Basic Og=="),
    fc.constant(`Basic ${btoa("a".repeat(3000))}`),
    fc.constant("Bearer "),
    fc.constant("NONE_JWT"),
    fc.constant("FOREIGN_JWT"),
    fc.string({ maxLength: 300 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, "")}`),
  ),
});

function headerSafe(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, "");
}

describe("hostile input never breaks the server or its storage", () => {
  it("every endpoint answers generated hostile requests with a 4xx error, no 500, no stack trace", async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers = new Headers({ "CF-Connecting-IP": "198.51.100.9" });
        if (r.contentType) headers.set("Content-Type", r.contentType);
        if (r.auth === "NONE_JWT") headers.set("Authorization", `Bearer ${noneJwt}`);
        else if (r.auth === "FOREIGN_JWT") headers.set("Authorization", `Bearer ${foreignJwt}`);
        else if (r.auth) headers.set("Authorization", headerSafe(r.auth));
        const body = r.method === "GET" ? undefined : r.body;
        const res = await call(`${r.path}${r.query ? `?${r.query}` : ""}`, {
          method: r.method,
          headers,
          body,
          redirect: "manual",
        });
        const text = await res.text();
        expect(res.status, `${r.method} ${r.path} → ${res.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(text).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+:\d+|Error: /);
        if (res.status >= 400 && (res.headers.get("content-type") ?? "").includes("json")) {
          const parsed = JSON.parse(text) as { error?: unknown };
          expect(typeof parsed.error).toBe("string");
        }
        // The forged tokens never authenticate anything.
        if (r.path === "/oauth/userinfo") expect(res.status).not.toBe(200);
      }),
      { seed: SEED, numRuns: RUNS * ENDPOINTS.length, endOnFailure: true },
    );
    expect(await snapshot()).toBe(before);
  });
});
