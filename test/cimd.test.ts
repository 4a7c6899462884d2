/**
 * Client ID Metadata Documents through the real worker, with documents served over real HTTP by
 * test/metadata-documents/server.ts on 127.0.0.1 (reachable only because these requests carry the
 * test-only ALLOW_LOOPBACK_METADATA_DOCUMENTS flag). draft-ietf-oauth-client-id-metadata-document
 * §3 (fetching), §4 (validation), §6 (consent display); RFC 6749 §4.1.2.1 (no redirect to an
 * unverified client); RFC 7636 (PKCE); RFC 8707 (resource → aud).
 */
import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { FETCH_FAILED } from "../src/oauth/client-metadata-document";
import { forgetClient } from "../src/store/clients";
import { callWith, ORIGIN } from "./helpers";
import { clientDocument, freshPath, hits, loopbackEnv, publish, publishClient } from "./metadata-documents/publish";
import { pkcePair, sessionCookie } from "./oauth-helpers";

const CALLBACK = "http://127.0.0.1:53682/callback"; // a native client's ephemeral loopback port (RFC 8252 §7.3)

async function authorize(clientId: string, cookie: string, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkcePair();
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: CALLBACK,
    scope: "ir.incidents:read",
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "s-1",
    ...extra,
  });
  const res = await callWith(loopbackEnv, `/oauth/authorize?${q}`, { redirect: "manual", headers: { Cookie: cookie } });
  return { res, verifier };
}

/** The consent page's form as a browser would submit it, approving every ticked scope. */
async function approve(page: Response, cookie: string): Promise<Response> {
  const html = await page.text();
  const body = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    body.append(m[1]!, m[2]!.replaceAll("&amp;", "&").replaceAll("&quot;", '"'));
  }
  for (const m of html.matchAll(/<input type="checkbox"[^>]*name="scope" value="([^"]+)"[^>]*checked/g)) {
    body.append("scope", m[1]!);
  }
  for (const m of html.matchAll(/<input type="checkbox"[^>]*name="area" value="([^"]+)"[^>]*checked/g)) {
    body.append("area", m[1]!);
  }
  body.append("decision", "approve");
  const csrf = page.headers
    .getSetCookie()
    .find((c) => c.startsWith("eoidc_csrf="))!
    .split(";")[0]!;
  return callWith(loopbackEnv, "/oauth/authorize/decision", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: `${cookie}; ${csrf}` },
    body,
    redirect: "manual",
  });
}

function token(params: Record<string, string>) {
  return callWith(loopbackEnv, "/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
}

async function errorPage(res: Response): Promise<string> {
  expect(res.status).toBe(400);
  expect(res.headers.get("location")).toBeNull(); // RFC 6749 §4.1.2.1
  expect(res.headers.get("content-type")).toContain("text/html");
  return res.text();
}

async function storedRow(clientId: string) {
  return env.DB.prepare("SELECT origin, team_id, name, metadata FROM clients WHERE id = ?").bind(clientId).first<{
    origin: string;
    team_id: string | null;
    name: string;
    metadata: string;
  }>();
}

describe("a metadata-document client, end to end (public client, PKCE)", () => {
  it("consent shows name, domain and redirect host; code → tokens with aud = resource; refresh; one fetch", async () => {
    const clientId = await publishClient("flow");
    const cookie = await sessionCookie("usr_demo_member");
    const resource = "https://mcp.example.com/mcp";
    const { res, verifier } = await authorize(clientId, cookie, { resource });
    expect(res.status).toBe(200);
    const page = res.clone();
    const html = await res.text();
    expect(html).toContain("Acme MCP Client");
    expect(html).toContain(new URL(clientId).host); // the domain that vouches for the name
    expect(html).toContain(clientId);
    expect(html).toContain("127.0.0.1:53682"); // where the answer goes
    expect(html).toContain("runs on your own computer"); // loopback-only redirect warning

    const decided = await approve(page, cookie);
    expect(decided.status).toBe(302);
    const back = new URL(decided.headers.get("location")!);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get("iss")).toBe(ORIGIN);
    const code = back.searchParams.get("code")!;

    const exchanged = await token({
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CALLBACK,
      resource,
    });
    const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string };
    expect(exchanged.status, JSON.stringify(tokens)).toBe(200);
    const jwks = createLocalJWKSet(await (await callWith(loopbackEnv, "/oauth/discovery/keys")).json());
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: ORIGIN, audience: resource });
    expect(payload.client_id).toBe(clientId);

    const refreshed = await token({
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);

    // Persisted as a client row (consents and token families reference it), never bound to a team.
    const row = await storedRow(clientId);
    expect(row).toMatchObject({ origin: "metadata_document", team_id: null, name: "Acme MCP Client" });
    const consent = await env.DB.prepare("SELECT scopes FROM consents WHERE client_id = ?").bind(clientId).first();
    expect(consent).not.toBeNull();
    // authorize, decision, token and refresh: the document was fetched once (Cache-Control max-age=600).
    expect((await hits(clientId)).hits).toBe(1);
  });

  it("no localhost warning when the redirect URI is an https web address", async () => {
    const clientId = await publishClient("web", { redirect_uris: ["https://app.acme.example/cb"] });
    const { res } = await authorize(clientId, await sessionCookie("usr_demo_member"), {
      redirect_uri: "https://app.acme.example/cb",
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain("app.acme.example");
    expect(html).not.toContain("runs on your own computer");
  });

  it("a redirect URI the document does not list gets the error page, not a redirect", async () => {
    const clientId = await publishClient("wrong-redirect");
    const { res } = await authorize(clientId, await sessionCookie("usr_demo_member"), {
      redirect_uri: "https://evil.example/cb",
    });
    expect(await errorPage(res)).toContain("redirect URI");
  });
});

describe("caching by Cache-Control (draft §3 + RFC 9111), persisted in D1", () => {
  it("a second use within max-age does not refetch; once stale the document is fetched again", async () => {
    const clientId = await publishClient("cache", {}, { "Cache-Control": "public, max-age=3600" });
    const cookie = await sessionCookie("usr_demo_member");
    await authorize(clientId, cookie);
    forgetClient(clientId); // not this isolate's short row cache: the D1 row's own expiry decides
    await authorize(clientId, cookie);
    expect((await hits(clientId)).hits).toBe(1);
    const stored = JSON.parse((await storedRow(clientId))!.metadata) as { document_expires_at: number };
    expect(stored.document_expires_at - Date.now()).toBeGreaterThan(3590_000);
    expect(stored.document_expires_at - Date.now()).toBeLessThanOrEqual(3600_000);

    // The document changes its name, and the stored copy goes stale.
    await publish({ path: new URL(clientId).pathname, body: clientDocument(clientId, { client_name: "Acme v2" }) });
    await env.DB.prepare("UPDATE clients SET metadata = json_set(metadata, '$.document_expires_at', 0) WHERE id = ?")
      .bind(clientId)
      .run();
    forgetClient(clientId); // this isolate's 5-second row cache
    const { res } = await authorize(clientId, cookie);
    expect(await res.text()).toContain("Acme v2");
    expect((await hits(clientId)).hits).toBe(1); // the counter restarted with the new document
    expect((await storedRow(clientId))!.name).toBe("Acme v2");
  });

  it("concurrent first uses share one fetch", async () => {
    const clientId = await publishClient("burst");
    const cookie = await sessionCookie("usr_demo_member");
    const pages = await Promise.all(Array.from({ length: 5 }, () => authorize(clientId, cookie)));
    expect(pages.map((p) => p.res.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await hits(clientId)).hits).toBe(1);
  });

  it("no-store and tiny max-age are held for the 60 s floor; huge max-age for the 24 h ceiling", async () => {
    for (const [header, seconds] of [
      ["no-store", 60],
      ["max-age=1", 60],
      ["max-age=31536000", 86400],
    ] as const) {
      const clientId = await publishClient("lifetime", {}, { "Cache-Control": header });
      await authorize(clientId, await sessionCookie("usr_demo_member"));
      const { document_expires_at } = JSON.parse((await storedRow(clientId))!.metadata) as {
        document_expires_at: number;
      };
      expect(Math.round((document_expires_at - Date.now()) / 1000), header).toBeGreaterThan(seconds - 5);
      expect(Math.round((document_expires_at - Date.now()) / 1000), header).toBeLessThanOrEqual(seconds);
    }
  });

  it("fails closed: once stale, a document that is gone makes the client unusable", async () => {
    const clientId = await publishClient("gone");
    const cookie = await sessionCookie("usr_demo_member");
    expect((await authorize(clientId, cookie)).res.status).toBe(200);
    await publish({ path: new URL(clientId).pathname, status: 404, body: "{}" });
    await env.DB.prepare("UPDATE clients SET metadata = json_set(metadata, '$.document_expires_at', 0) WHERE id = ?")
      .bind(clientId)
      .run();
    forgetClient(clientId);
    const page = await errorPage((await authorize(clientId, cookie)).res);
    expect(page).toContain("metadata document cannot be used");
    // One text for every fetch failure: no status (or port) oracle; the reason is only logged.
    expect(page).toContain(FETCH_FAILED);
    expect(page).not.toMatch(/404/);
    const res = await token({ grant_type: "refresh_token", client_id: clientId, refresh_token: "x" });
    expect(((await res.json()) as { error_description: string }).error_description).toBe(FETCH_FAILED);
  });
});

describe("bad documents: error page at /oauth/authorize, invalid_client at /oauth/token", () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      "larger than 5 KB (declared length)",
      () => publishClient("big", { client_name: "A".repeat(10), padding: "x".repeat(6000) }),
      /could not be fetched/,
    ],
    [
      "an endless body with no length (the reader stops at 5 KB)",
      async () => publish({ path: freshPath("endless"), endless: true }),
      /could not be fetched/,
    ],
    ["not JSON", async () => publish({ path: freshPath("garbage"), body: "{not json" }), /not valid JSON/],
    ["a JSON array", async () => publish({ path: freshPath("array"), body: "[1,2]" }), /not a JSON object/],
    [
      "served as text/html",
      async () => {
        const path = freshPath("html");
        return publish({ path, headers: { "Content-Type": "text/html" }, body: clientDocument(`x${path}`) });
      },
      /could not be fetched/,
    ],
    [
      "a client_id that differs from its URL",
      () => publishClient("mismatch", { client_id: "https://acme.example/client.json" }),
      /client_id differs/,
    ],
    ["no redirect_uris", () => publishClient("noredirect", { redirect_uris: undefined }), /redirect_uris/],
    [
      "private_key_jwt",
      () => publishClient("pkjwt", { token_endpoint_auth_method: "private_key_jwt" }),
      /private_key_jwt/,
    ],
    [
      "a redirect response (not followed)",
      async () =>
        publish({
          path: freshPath("redirect"),
          status: 302,
          headers: { Location: "http://127.0.0.1:1/elsewhere.json" },
          body: "{}",
        }),
      /could not be fetched/,
    ],
    ["HTTP 500", async () => publish({ path: freshPath("error"), status: 500, body: "{}" }), /could not be fetched/],
  ];

  it.each(cases)("%s", async (_name, make, reason) => {
    const clientId = await make();
    // The page says why (for the app's developer), and still never redirects.
    const page = await errorPage((await authorize(clientId, await sessionCookie("usr_demo_member"))).res);
    expect(page).toContain("metadata document cannot be used");
    expect(page).toMatch(reason);
    const res = await token({ grant_type: "authorization_code", client_id: clientId, code: "x", code_verifier: "y" });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_client");
    expect(body.error_description).toMatch(reason);
    expect(await storedRow(clientId)).toBeNull(); // nothing is stored for a document that failed
  });

  it("remembers a failed fetch for at least 60 s: callers cannot make the worker fetch it again and again", async () => {
    const path = freshPath("flaky");
    const clientId = await publish({ path, status: 500, body: "{}" });
    const tokenCall = () =>
      token({ grant_type: "authorization_code", client_id: clientId, code: "x", code_verifier: "y" });
    expect((await tokenCall()).status).toBe(401);
    expect((await hits(clientId)).hits).toBe(1);
    // The document is fixed at once (publishing it again restarts the server's count), but the failure stands until the 60 s floor has passed.
    await publish({ path, body: clientDocument(clientId), headers: { "Cache-Control": "max-age=600" } });
    for (let i = 0; i < 5; i++) {
      const res = await tokenCall();
      expect(((await res.json()) as { error_description: string }).error_description).toBe(FETCH_FAILED);
    }
    const page = await errorPage((await authorize(clientId, await sessionCookie("usr_demo_member"))).res);
    expect(page).toContain(FETCH_FAILED);
    expect((await hits(clientId)).hits).toBe(0);
  });

  it("stops reading an endless body instead of downloading it", async () => {
    const clientId = await publish({ path: freshPath("endless-bytes"), endless: true });
    await token({ grant_type: "authorization_code", client_id: clientId, code: "x", code_verifier: "y" });
    await new Promise((r) => setTimeout(r, 200));
    const { bytesSent } = await hits(clientId);
    expect(bytesSent).toBeLessThan(1024 * 1024); // the server stopped once the worker hung up
  });

  it("gives up after the 3-second timeout", async () => {
    const path = freshPath("slow");
    const clientId = await publish({ path, delayMs: 6000, body: clientDocument(`x${path}`) });
    const started = Date.now();
    const res = await token({ grant_type: "authorization_code", client_id: clientId, code: "x", code_verifier: "y" });
    const elapsed = Date.now() - started;
    expect(((await res.json()) as { error_description: string }).error_description).toBe(FETCH_FAILED);
    expect(elapsed).toBeGreaterThan(2500);
    expect(elapsed).toBeLessThan(5500);
  });
});
