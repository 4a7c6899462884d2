/**
 * /settings/oauth-applications: team admins manage apps through plain HTML forms (README
 * "Administration", "Clients"). Each action goes through the real worker (D1, Durable Objects) and is
 * checked where it matters: at /oauth/token (RFC 6749 §2.3.1, §5.2 invalid_client) and /oauth/userinfo
 * (RFC 6750 §3.1 invalid_token).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../src/tokens/secrets";
import { call } from "./helpers";
import { createTestClient, DEMO, exchangeCode, obtainCode } from "./oauth-helpers";
import {
  auditOf,
  clientCredentialsToken,
  elements,
  fieldValue,
  type Person,
  page,
  signedIn,
  storedClient,
  textOf,
  userinfo,
} from "./settings-browser";

const APPS = "/settings/oauth-applications";
const appPath = (id: string, action = "") => `${APPS}/${encodeURIComponent(id)}${action ? `/${action}` : ""}`;

let admin: Person;
let member: Person;
let observer: Person;

beforeAll(async () => {
  admin = await signedIn(DEMO.admin);
  member = await signedIn(DEMO.member);
  observer = await signedIn(DEMO.observer);
  await env.DB.prepare("INSERT INTO teams (id, name) VALUES ('team_other', 'Other')").run();
});

const SERVICE_FORM = (name: string): [string, string][] => [
  ["team", DEMO.team],
  ["type", "client_credentials"],
  ["name", name],
  ["token_endpoint_auth_method", "client_secret_basic"],
  ["scope", "ir.incidents:read"],
  ["scope", "oc.alerts:read"],
];

/** Creates an app through the form; returns the credentials page's client id, secret and markup. */
async function createThroughForm(fields: [string, string][]) {
  const html = await page(await admin.post(APPS, fields), 200);
  const clientId = await fieldValue(html, "client-id");
  expect(clientId).toBeTruthy();
  return { html, clientId: clientId!, secret: await fieldValue(html, "client-secret") };
}

const countClients = async () => (await env.DB.prepare("SELECT count(*) AS n FROM clients").first<{ n: number }>())!.n;

describe("the app list", () => {
  it("shows the team's apps with kind, grants, permissions, dates — and self-registered ones, marked", async () => {
    const registered = await createTestClient({ teamId: DEMO.team });
    const foreign = await createTestClient({ teamId: "team_other" });
    const { clientId } = await createThroughForm(SERVICE_FORM("Nightly export"));
    const html = await page(await admin.get(APPS), 200);
    const cards = await textOf(html, "li.card");
    expect(cards).toContain("Nightly export");
    expect(cards).toContain(clientId);
    expect(cards).toContain("client_credentials");
    // Grouped as on the consent page (scope-groups.ts): the area, its level, one line.
    expect(cards).toContain("Incident responseview View incidents");
    expect(cards).toContain("Registered itself");
    expect(cards).toContain(registered.id);
    expect(cards).toContain("Created");
    expect(cards).toContain("Last used");
    // Another team's app is never listed (nor reachable: 404).
    expect(cards).not.toContain(foreign.id);
    await page(await admin.get(appPath(foreign.id)), 404);
  });

  it("links every app's page and the create form", async () => {
    const html = await page(await admin.get(APPS), 200);
    const links = (await elements(html, "a")).map((a) => a.href);
    expect(links).toContain(`${APPS}/new?team=${DEMO.team}`);
  });
});

describe("creating apps (the secret is shown exactly once)", () => {
  it("offers a form made for each kind of app, with a CSRF token", async () => {
    for (const type of ["public", "confidential", "client_credentials"]) {
      const html = await page(await admin.get(`${APPS}/new?type=${type}`), 200);
      const inputs = await elements(html, "form[method=post] input, form[method=post] textarea");
      expect(inputs.find((i) => i.name === "csrf")?.value).toBe(admin.csrf);
      // A service app has no redirect URIs, no sign-in scopes and no consent screen.
      const names = inputs.map((i) => i.name);
      expect(names.includes("redirect_uris"), type).toBe(type !== "client_credentials");
      expect(names.includes("automatic_consent"), type).toBe(type !== "client_credentials");
      expect(
        inputs.some((i) => i.value === "openid"),
        type,
      ).toBe(type !== "client_credentials");
    }
  });

  it("creates a service app whose secret works at /oauth/token, and never shows it again", async () => {
    const { html, clientId, secret } = await createThroughForm(SERVICE_FORM("Deploy bot"));
    expect(secret).toMatch(/^\S{32,}$/);
    const token = await clientCredentialsToken(clientId, secret!);
    expect(token.status, await token.clone().text()).toBe(200);
    // The download link carries the same credentials, built in the page (a data: URL, nothing stored).
    const download = (await elements(html, "a[download]"))[0]!;
    const file = JSON.parse(decodeURIComponent(download.href!.replace(/^data:application\/json;charset=utf-8,/, "")));
    expect(file).toMatchObject({ client_id: clientId, client_secret: secret, grant_types: ["client_credentials"] });
    // The copy script runs only under this response's nonce.
    const nonce = (await elements(html, "script"))[0]?.nonce;
    expect(nonce).toBeTruthy();
    // A reload shows the app but not the secret; only its hash is stored.
    for (const path of [APPS, appPath(clientId)]) expect(await (await admin.get(path)).text()).not.toContain(secret);
    const row = await storedClient(clientId);
    expect(row?.secret_hash).toBe(await sha256(secret!));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(await auditOf(clientId))).not.toContain(secret);
    expect((await auditOf(clientId)).map((e) => e.kind)).toEqual(["client.created"]);
  });

  it("sends a script-src nonce in the CSP of the credentials page only", async () => {
    const res = await admin.post(APPS, SERVICE_FORM("Nonce check"));
    const html = await page(res, 200);
    const nonce = (await elements(html, "script"))[0]!.nonce!;
    expect(res.headers.get("content-security-policy")).toContain(`script-src 'nonce-${nonce}'`);
    const list = await admin.get(APPS);
    expect(list.headers.get("content-security-policy")).not.toContain("script-src");
  });

  it("creates a confidential app (authorization code, secret) and a public app (no secret)", async () => {
    const confidential = await createThroughForm([
      ["team", DEMO.team],
      ["type", "confidential"],
      ["name", "Dashboard"],
      ["redirect_uris", "https://dash.example.com/cb\r\nhttp://127.0.0.1/cb"],
      ["token_endpoint_auth_method", "client_secret_post"],
      ["scope", "openid"],
      ["scope", "oc.all"],
    ]);
    expect(confidential.secret).toBeTruthy();
    expect(await storedClient(confidential.clientId)).toMatchObject({
      token_endpoint_auth_method: "client_secret_post",
      redirect_uris: JSON.stringify(["https://dash.example.com/cb", "http://127.0.0.1/cb"]),
      origin: "admin",
      created_by: DEMO.admin,
    });
    // oc.all is stored expanded (README "Scopes").
    expect(JSON.parse(String((await storedClient(confidential.clientId))?.scopes))).toHaveLength(1 + 16);

    const pub = await createThroughForm([
      ["team", DEMO.team],
      ["type", "public"],
      ["name", "Mobile"],
      ["redirect_uris", "http://localhost/cb"],
      ["scope", "openid"],
      ["automatic_consent", "yes"],
    ]);
    expect(pub.secret).toBeUndefined();
    expect(await storedClient(pub.clientId)).toMatchObject({
      token_endpoint_auth_method: "none",
      automatic_consent: 1,
    });
  });

  it("creates a private_key_jwt app from a pasted JWK Set or a JWK Set URL, with no secret (RFC 7523, RFC 7591 §2)", async () => {
    const jwk = {
      kty: "EC",
      crv: "P-256",
      kid: "k1",
      x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    };
    const pasted = await createThroughForm([
      ["team", DEMO.team],
      ["type", "client_credentials"],
      ["name", "Keyed export"],
      ["token_endpoint_auth_method", "private_key_jwt"],
      ["jwks", JSON.stringify({ keys: [jwk] })],
      ["jwks_uri", ""],
      ["scope", "ir.incidents:read"],
    ]);
    expect(pasted.secret).toBeUndefined();
    const stored = await storedClient(pasted.clientId);
    expect(stored).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", secret_hash: null });
    expect(JSON.parse(String(stored?.metadata))).toEqual({ jwks: { keys: [jwk] } });
    // It has keys, not a secret: no "Reset the secret" on its page, and its keys can be changed there.
    const detail = await page(await admin.get(appPath(pasted.clientId)), 200);
    expect((await elements(detail, "a")).map((a) => a.href)).not.toContain(appPath(pasted.clientId, "reset-secret"));
    const rotated = await admin.post(appPath(pasted.clientId), [
      ["name", "Keyed export"],
      ["jwks", ""],
      ["jwks_uri", "https://keys.example.com/export.json"],
      ["scope", "ir.incidents:read"],
    ]);
    expect(rotated.status, await rotated.clone().text()).toBe(303);
    expect(JSON.parse(String((await storedClient(pasted.clientId))?.metadata))).toEqual({
      jwks_uri: "https://keys.example.com/export.json",
    });

    const byUrl = await createThroughForm([
      ["team", DEMO.team],
      ["type", "confidential"],
      ["name", "Keyed dashboard"],
      ["redirect_uris", "https://dash.example.com/cb"],
      ["token_endpoint_auth_method", "private_key_jwt"],
      ["jwks", ""],
      ["jwks_uri", "https://dash.example.com/jwks.json"],
      ["scope", "openid"],
    ]);
    expect(JSON.parse(String((await storedClient(byUrl.clientId))?.metadata))).toEqual({
      jwks_uri: "https://dash.example.com/jwks.json",
    });

    const before = await countClients();
    const bad = await page(
      await admin.post(APPS, [
        ["team", DEMO.team],
        ["type", "client_credentials"],
        ["name", "Broken keys"],
        ["token_endpoint_auth_method", "private_key_jwt"],
        ["jwks", "{not json"],
        ["scope", "ir.incidents:read"],
      ]),
      400,
    );
    expect(await textOf(bad, "[role=alert]")).toContain("not valid JSON");
    expect(await countClients()).toBe(before);
  });

  it("explains what is wrong and keeps what was typed; nothing is created", async () => {
    const before = await countClients();
    const res = await admin.post(APPS, [
      ["team", DEMO.team],
      ["type", "confidential"],
      ["name", "Leaky"],
      ["redirect_uris", "http://evil.example/cb"],
      ["scope", "openid"],
    ]);
    const html = await page(res, 400);
    expect(await textOf(html, "[role=alert]")).toContain("That did not work");
    expect((await elements(html, "input#app-name"))[0]?.value).toBe("Leaky");
    const noScope = await page(await admin.post(APPS, SERVICE_FORM("No scope").slice(0, 4)), 400);
    expect(await textOf(noScope, "[role=alert]")).toContain("Tick at least one permission");
    expect(await countClients()).toBe(before);
  });

  it("places a service app's token checks in the region picked (a Durable Object location hint), shown on its page", async () => {
    const form = await page(await admin.get(`${APPS}/new?type=client_credentials`), 200);
    expect((await elements(form, "select#location-hint option[selected]")).map((o) => o.value)).toEqual([""]);
    expect((await elements(form, "select#location-hint option")).map((o) => o.value)).toContain("apac");
    // An app for people has none: each person's object is created by their own sign-in, near them.
    const personal = await page(await admin.get(`${APPS}/new?type=confidential`), 200);
    expect(await elements(personal, "select#location-hint")).toEqual([]);

    const { clientId } = await createThroughForm([...SERVICE_FORM("Tokyo bot"), ["location_hint", "apac"]]);
    expect(await storedClient(clientId)).toMatchObject({ location_hint: "apac" });
    const shown = await page(await admin.get(appPath(clientId)), 200);
    expect(await textOf(shown, "dl.facts")).toContain("In Asia-Pacific");
    // Fixed at creation: the edit form does not offer it.
    expect(await elements(shown, "select#location-hint")).toEqual([]);

    const { clientId: near } = await createThroughForm(SERVICE_FORM("Nearby bot"));
    expect(await storedClient(near)).toMatchObject({ location_hint: null });
    expect(await textOf(await page(await admin.get(appPath(near)), 200), "dl.facts")).toContain(
      "Near where the app was created",
    );

    const before = await countClients();
    const refused = await page(await admin.post(APPS, [...SERVICE_FORM("Moon bot"), ["location_hint", "moon"]]), 400);
    expect(await textOf(refused, "[role=alert]")).toContain("location_hint must be one of wnam, enam");
    expect(await elements(refused, "select#location-hint")).toHaveLength(1);
    expect(await countClients()).toBe(before);
  });

  it("escapes an app name full of markup everywhere it is shown (no XSS)", async () => {
    const name = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
    const { html, clientId } = await createThroughForm(SERVICE_FORM(name));
    const pages = [html, await (await admin.get(APPS)).text(), await (await admin.get(appPath(clientId))).text()];
    for (const markup of pages) {
      expect(markup).not.toContain("<script>alert(1)");
      expect(markup).not.toContain("<img src=x");
      expect(markup).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
  });
});

describe("editing, resetting, revoking, deleting", () => {
  it("edits name, redirect URIs, permissions and automatic consent; audited", async () => {
    const { clientId } = await createThroughForm([
      ["team", DEMO.team],
      ["type", "public"],
      ["name", "CLI"],
      ["redirect_uris", "http://127.0.0.1/cb"],
      ["scope", "openid"],
    ]);
    const form = await page(await admin.get(appPath(clientId)), 200);
    expect((await elements(form, `form[action="${appPath(clientId)}"]`)).length).toBe(1);
    const res = await admin.post(appPath(clientId), [
      ["name", "CLI v2"],
      ["redirect_uris", "http://127.0.0.1/callback\nhttps://cli.example.com/cb"],
      ["scope", "openid"],
      ["scope", "ir.incidents:write"],
      ["automatic_consent", "yes"],
    ]);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${appPath(clientId)}?done=updated`);
    expect(await storedClient(clientId)).toMatchObject({
      name: "CLI v2",
      redirect_uris: JSON.stringify(["http://127.0.0.1/callback", "https://cli.example.com/cb"]),
      scopes: JSON.stringify(["openid", "ir.incidents:write"]),
      automatic_consent: 1,
    });
    expect((await auditOf(clientId)).map((e) => e.kind)).toEqual(["client.created", "client.updated"]);
    const after = await page(await admin.get(`${appPath(clientId)}?done=updated`), 200);
    expect(await textOf(after, "[role=status]")).toContain("saved");
    // The picker groups as the consent page (scope-groups.ts): one line per area says what is chosen,
    // the rows are a view and a change box per resource, ticked as stored.
    expect(await textOf(after, "#area-ir-hint")).toContain("Chosen: change incidents.");
    expect(await textOf(after, "#area-oc-hint")).toContain("Nothing chosen.");
    const ticked = (await elements(after, 'input[name="scope"][checked]')).map((i) => i.value);
    expect(ticked).toEqual(["openid", "ir.incidents:write"]);
    expect(await elements(after, 'details ul.resources input[name="scope"]')).toHaveLength(4 + 30 + 16);
  });

  it("chooses the ID token's signature (OIDC Dynamic Client Registration §2): RS256 by default, ES256 when picked, changed on the edit form", async () => {
    const service = await page(await admin.get(`${APPS}/new?type=client_credentials`), 200);
    expect(await elements(service, "select#id-token-alg")).toEqual([]);
    const blank = await page(await admin.get(`${APPS}/new?type=confidential`), 200);
    expect((await elements(blank, "#id-token-alg option[selected]")).map((o) => o.value)).toEqual(["RS256"]);
    const fields: [string, string][] = [
      ["team", DEMO.team],
      ["type", "confidential"],
      ["name", "Edge app"],
      ["redirect_uris", "https://edge.example.com/cb"],
      ["token_endpoint_auth_method", "client_secret_basic"],
      ["scope", "openid"],
      ["id_token_signed_response_alg", "ES256"],
    ];
    const { clientId } = await createThroughForm(fields);
    expect(await storedClient(clientId)).toMatchObject({ id_token_signed_response_alg: "ES256" });
    const form = await page(await admin.get(appPath(clientId)), 200);
    expect((await elements(form, "#id-token-alg option[selected]")).map((o) => o.value)).toEqual(["ES256"]);

    const edit = (alg: string) =>
      admin.post(appPath(clientId), [
        ["name", "Edge app"],
        ["redirect_uris", "https://edge.example.com/cb"],
        ["scope", "openid"],
        ["id_token_signed_response_alg", alg],
      ]);
    const refused = await page(await edit("HS256"), 400);
    expect(await textOf(refused, "[role=alert]")).toContain("id_token_signed_response_alg must be one of RS256, ES256");
    expect(await storedClient(clientId)).toMatchObject({ id_token_signed_response_alg: "ES256" });
    expect((await edit("RS256")).status).toBe(303);
    expect(await storedClient(clientId)).toMatchObject({ id_token_signed_response_alg: "RS256" });
  });

  it("resets the secret after a confirmation: the old one fails at once with invalid_client, the new one works", async () => {
    const { clientId, secret: old } = await createThroughForm(SERVICE_FORM("Rotating bot"));
    expect((await clientCredentialsToken(clientId, old!)).status).toBe(200);
    const confirm = await page(await admin.get(appPath(clientId, "reset-secret")), 200);
    expect(await elements(confirm, `form[action="${appPath(clientId, "reset-secret")}"]`)).toHaveLength(1);

    const html = await page(await admin.post(appPath(clientId, "reset-secret"), []), 200);
    const fresh = await fieldValue(html, "client-secret");
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(old);
    const refused = await clientCredentialsToken(clientId, old!);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe("invalid_client");
    expect((await clientCredentialsToken(clientId, fresh!)).status).toBe(200);
    expect(await (await admin.get(appPath(clientId))).text()).not.toContain(fresh);
    expect((await auditOf(clientId)).map((e) => e.kind)).toContain("client.secret_reset");
  });

  it("refuses to reset what has no secret (a public app): 403 page", async () => {
    const { clientId } = await createThroughForm([
      ["team", DEMO.team],
      ["type", "public"],
      ["name", "SPA"],
      ["redirect_uris", "https://spa.example.com/cb"],
      ["scope", "openid"],
    ]);
    await page(await admin.post(appPath(clientId, "reset-secret"), []), 403);
  });

  it("revokes every token of an app: a token issued before gets 401 at /oauth/userinfo", async () => {
    const client = await createTestClient({ teamId: DEMO.team });
    const { code, verifier } = await obtainCode(client, DEMO.member);
    const tokens = (await (await exchangeCode(client, code, verifier)).json()) as { access_token: string };
    expect((await userinfo(tokens.access_token)).status).toBe(200);

    await page(await admin.get(appPath(client.id, "revoke-tokens")), 200);
    const res = await admin.post(appPath(client.id, "revoke-tokens"), []);
    expect(res.status).toBe(303);
    const denied = await userinfo(tokens.access_token);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("invalid_token");
    expect((await auditOf(client.id)).map((e) => e.kind)).toEqual(["client.tokens_revoked"]);
  });

  it("deletes an app after a confirmation: its secret gets invalid_client, its page 404", async () => {
    const { clientId, secret } = await createThroughForm(SERVICE_FORM("Short-lived"));
    await page(await admin.get(appPath(clientId, "delete")), 200);
    const res = await admin.post(appPath(clientId, "delete"), []);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${APPS}?done=deleted`);
    const refused = await clientCredentialsToken(clientId, secret!);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe("invalid_client");
    await page(await admin.get(appPath(clientId)), 404);
    expect(await storedClient(clientId)).toBeNull();
    expect((await auditOf(clientId)).map((e) => e.kind)).toEqual(["client.created", "client.deleted"]);
  });

  it("does not let admins rewrite a self-registered app (403), only cut it off", async () => {
    const registered = await createTestClient({ teamId: DEMO.team });
    const html = await page(await admin.get(appPath(registered.id)), 200);
    expect(await textOf(html, "main")).toContain("registered itself");
    await page(
      await admin.post(appPath(registered.id), [
        ["name", "Renamed"],
        ["scope", "openid"],
      ]),
      403,
    );
    expect((await storedClient(registered.id))?.name).toBe("Test App");
  });
});

describe("who may do it", () => {
  it("sends a signed-out visitor to sign-in and back", async () => {
    const res = await call(`${APPS}?team=${DEMO.team}`, { redirect: "manual" });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!, "http://x");
    expect(location.pathname).toBe("/signin");
    expect(location.searchParams.get("return_to")).toBe(`${APPS}?team=${DEMO.team}`);
  });

  it("sends a signed-out form post to sign-in, back to the page it came from, and changes nothing", async () => {
    const before = await countClients();
    const res = await call(APPS, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(SERVICE_FORM("Anonymous")),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/signin?return_to=${encodeURIComponent(APPS)}`);
    expect(await countClients()).toBe(before);
  });

  it.each([
    ["member", () => member],
    ["observer", () => observer],
  ])("refuses a %s with 403 pages on every admin page and form, and changes nothing", async (_role, who) => {
    const person = who();
    const { clientId, secret } = await createThroughForm(SERVICE_FORM("Guarded"));
    for (const path of [APPS, `${APPS}/new`, appPath(clientId), appPath(clientId, "delete"), "/settings/audit"]) {
      const html = await page(await person.get(path), 403);
      expect(await textOf(html, "h1")).toContain("Only team admins");
    }
    const before = await countClients();
    await page(await person.post(APPS, SERVICE_FORM("Sneaky")), 403);
    await page(await person.post(appPath(clientId, "reset-secret"), []), 403);
    await page(await person.post(appPath(clientId, "delete"), []), 403);
    expect(await countClients()).toBe(before);
    expect((await clientCredentialsToken(clientId, secret!)).status).toBe(200);
  });

  it.each([
    ["no CSRF token", { csrf: null }],
    ["a wrong CSRF token", { csrf: "A".repeat(43) }],
    ["another site's Origin", { origin: "https://evil.example" }],
  ] as const)("refuses a form post with %s: 403, nothing changed", async (_what, tamper) => {
    const { clientId, secret } = await createThroughForm(SERVICE_FORM("Protected"));
    const before = await countClients();
    await page(await admin.post(APPS, SERVICE_FORM("Forged"), tamper), 403);
    await page(await admin.post(appPath(clientId, "delete"), [], tamper), 403);
    await page(await admin.post(appPath(clientId, "reset-secret"), [], tamper), 403);
    await page(
      await admin.post(
        appPath(clientId),
        [
          ["name", "Hijacked"],
          ["scope", "ir.incidents:read"],
        ],
        tamper,
      ),
      403,
    );
    expect(await countClients()).toBe(before);
    expect((await storedClient(clientId))?.name).toBe("Protected");
    expect((await clientCredentialsToken(clientId, secret!)).status).toBe(200);
  });
});

describe("bad input (docs/security.md 'Hostile input': never a 500, never a stack trace)", () => {
  it.each([
    ["a malformed percent-encoding in the app id", `${APPS}/%E0%A4%A`, 404],
    ["an app id of 5000 characters", `${APPS}/${"a".repeat(5000)}`, 404],
    ["a team the admin does not administer", `${APPS}?team=team_other`, 403],
    ["an unknown kind of app", `${APPS}/new?type=%3Cscript%3E`, 200],
    ["a negative audit cursor", "/settings/audit?before=-1", 400],
    ["an unknown audit kind", "/settings/audit?kind=%3Cscript%3E", 200],
    ["unknown audit app and person filters", "/settings/audit?app=%3Cscript%3E&person=%3Cscript%3E", 200],
    ["an audit app filter of 5000 characters", `/settings/audit?app=${"a".repeat(5000)}`, 200],
    ["an unknown settings page", "/settings/nothing-here", 404],
  ])("answers %s with a page", async (_what, path, status) => {
    const html = await page(await admin.get(path), status);
    expect(html).not.toContain("<script>");
    expect(html).not.toMatch(/\bat \w+ \(/); // no stack trace
  });

  it("names the reason of a 403: the team is not the admin's (one refusal page for apps and members)", async () => {
    for (const path of [`${APPS}?team=team_other`, `${APPS}/new?team=team_other`]) {
      const html = await page(await admin.get(path), 403);
      expect(await textOf(html, "main")).toContain("Not allowed");
      expect(await textOf(html, "main")).toContain("You are not an admin of that team.");
    }
  });

  it.each([
    ["a JSON body", "application/json", JSON.stringify({ name: "x" })],
    ["a body that is not a form", "text/plain", "csrf=whatever"],
  ])("refuses %s on a form endpoint with 403 and creates nothing", async (_what, type, body) => {
    const before = await countClients();
    const res = await call(APPS, { method: "POST", headers: { Cookie: admin.cookie, "Content-Type": type }, body });
    await page(res, 403);
    expect(await countClients()).toBe(before);
  });

  it("refuses a form body over 16 KiB with 413", async () => {
    const res = await admin.post(APPS, [...SERVICE_FORM("Huge"), ["name", "x".repeat(20_000)]]);
    await page(res, 413);
  });
});
