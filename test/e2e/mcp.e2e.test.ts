/**
 * Acceptance: an MCP client (the MCP TypeScript SDK) against the example protected MCP server
 * (examples/mcp-server under `wrangler dev`), authorized by edge-oidc (a private `wrangler dev`),
 * exactly as Claude, VS Code or Cursor do it:
 *   401 + resource_metadata (RFC 9728 §5.1) → protected resource metadata (§3) → authorization server
 *   metadata (RFC 8414) → client identity by Client ID Metadata Document (and, separately, dynamic
 *   registration, RFC 7591) → PKCE authorization (RFC 7636) with resource (RFC 8707) in Chromium
 *   (dev sign-in, consent) → token with aud = the MCP server → tool call → refresh → revocation
 *   (RFC 7009) ends access at once (the example server introspects, RFC 7662).
 * The metadata document is served over https by a Node server on 127.0.0.1 with a throwaway
 * certificate that workerd trusts through NODE_EXTRA_CA_CERTS; edge-oidc runs with the test-only
 * ALLOW_LOOPBACK_METADATA_DOCUMENTS=true (a loopback issuer is required for it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  auth,
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  type OAuthClientProvider,
  UnauthorizedError,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { decodeJwt } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type RunningServer, startServer } from "../../scripts/start-server.mjs";
import { type RunningDocumentServer, startDocumentServer } from "../metadata-documents/server";
import { screenshot, submitForm } from "./harness/browser";
import { type E2eWorker, RESULTS_DIR, startWorker } from "./harness/server";
import { e2eSetup } from "./harness/setup";

/** The SDK's OAuthClientProvider, kept in memory, with the user's part done in Chromium. */
class BrowserProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  authorizationUrl?: URL;
  constructor(
    readonly redirectUrl: string,
    readonly clientMetadataUrl?: string,
  ) {}
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "E2E MCP client (registered)",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation = () => this.info;
  saveClientInformation = (info: OAuthClientInformationMixed) => {
    this.info = info;
  };
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => {
    this.saved = tokens;
  };
  redirectToAuthorization = (url: URL) => {
    this.authorizationUrl = url;
  };
  saveCodeVerifier = (verifier: string) => {
    this.verifier = verifier;
  };
  codeVerifier = () => this.verifier;
}

let tlsDir: string;
let documents: RunningDocumentServer;
let mcp: RunningServer;
let mcpUrl: string;

/** A throwaway self-signed certificate for 127.0.0.1 (workerd refuses TLS it cannot verify). */
function makeCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const key = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const made = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"].concat([
      "-keyout",
      key,
      "-out",
      certFile,
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]),
    { encoding: "utf8" },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  return { key: readFileSync(key, "utf8"), cert: readFileSync(certFile, "utf8"), certFile };
}

async function adminApp(worker: E2eWorker): Promise<{ clientId: string; secret: string }> {
  const res = await fetch(`${worker.baseUrl}/api/admin/apps`, {
    method: "POST",
    headers: { Authorization: `Bearer ${worker.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      team_id: "team_demo",
      name: "Example MCP server (introspection)",
      type: "client_credentials",
      scope: "ir.incidents:read",
    }),
  });
  const body = (await res.json()) as { client_id: string; client_secret: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return { clientId: body.client_id, secret: body.client_secret };
}

/**
 * The authorization server trusts the document server's certificate: a private worker started
 * with NODE_EXTRA_CA_CERTS, which miniflare adds to workerd's trusted certificates.
 */
const setup = e2eSetup(async () => {
  tlsDir = mkdtempSync(join(tmpdir(), "edge-oidc-mcp-tls-"));
  const tls = makeCertificate(tlsDir);
  documents = await startDocumentServer({ key: tls.key, cert: tls.cert });
  process.env.NODE_EXTRA_CA_CERTS = tls.certFile;
  try {
    return await startWorker({ name: "mcp-auth", vars: { ALLOW_LOOPBACK_METADATA_DOCUMENTS: "true" } });
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
  }
});

beforeAll(async () => {
  const authServer = setup.worker;
  const introspection = await adminApp(authServer);
  const port = await freePort();
  mcpUrl = `http://127.0.0.1:${port}/mcp`;
  mcp = await startServer({
    command: ["wrangler", "dev", "-c", "examples/mcp-server/wrangler.toml", "--ip", "127.0.0.1"].concat([
      "--port",
      String(port),
      "--persist-to",
      join(tlsDir, "mcp-state"),
      "--var",
      `ISSUER:${authServer.issuer}`,
      "--var",
      `RESOURCE:${mcpUrl}`,
      "--var",
      `INTROSPECTION_CLIENT_ID:${introspection.clientId}`,
      "--var",
      `INTROSPECTION_CLIENT_SECRET:${introspection.secret}`,
    ]),
    port,
    logFile: join(RESULTS_DIR, "wrangler-dev-mcp-server.log"),
    readyPath: "/.well-known/oauth-protected-resource/mcp",
  });
}, 180_000);

afterAll(async () => {
  await mcp?.stop();
  await documents?.close();
  if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
});

/** Sign in with the dev sign-in and approve the consent page for the URL the SDK "redirected" to. */
async function approveInBrowser(provider: BrowserProvider, expectOnConsent: string[], shot: string): Promise<string> {
  const { page } = setup.browser;
  await setup.browser.context.clearCookies();
  await page.goto(provider.authorizationUrl!.href);
  expect(new URL(page.url()).pathname).toBe("/signin");
  await submitForm(page, { email: "admin@example.com" }, { form: 'form[action="/signin/dev"]' });
  const text = (await page.locator("body").textContent()) ?? "";
  for (const expected of expectOnConsent) expect(text).toContain(expected);
  await screenshot(page, shot);
  await submitForm(page, {}, { submit: 'button[name="decision"][value="approve"]' });
  let back = await setup.callback.next();
  // Chromium also asks the callback origin for /favicon.ico after a callback page: skip those.
  while (back.pathname !== new URL(setup.callback.redirectUri).pathname) back = await setup.callback.next();
  expect(back.searchParams.get("iss")).toBe(setup.worker.issuer); // RFC 9207
  return back.searchParams.get("code")!;
}

/** The SDK's own flow: connect → 401 → discovery → client identity → authorization URL. */
async function authorize(provider: BrowserProvider, expectOnConsent: string[], shot: string): Promise<void> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: "edge-oidc-e2e", version: "1.0.0" });
  await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
  const url = provider.authorizationUrl!;
  expect(url.origin).toBe(setup.worker.baseUrl);
  expect(url.searchParams.get("resource")).toBe(mcpUrl); // RFC 8707
  expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  await transport.finishAuth(await approveInBrowser(provider, expectOnConsent, shot));
  await client.close();
}

async function whoami(provider: BrowserProvider): Promise<{ sub: string; client_id: string; scopes: string[] }> {
  const client = new Client({ name: "edge-oidc-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  const result = await client.callTool({ name: "whoami", arguments: {} });
  await client.close();
  return result.structuredContent as { sub: string; client_id: string; scopes: string[] };
}

/** A tools/call with a given access token, as raw HTTP (what any client sends). */
function rawToolCall(accessToken: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${accessToken}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } }),
  });
}

describe("discovery from a 401, as the MCP SDK does it", () => {
  it("401 names the resource metadata; it names the authorization server; its metadata supports CIMD", async () => {
    const res = await fetch(mcpUrl, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(401);
    const metadataUrl = `http://127.0.0.1:${new URL(mcpUrl).port}/.well-known/oauth-protected-resource/mcp`;
    expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl}"`);

    const prm = await discoverOAuthProtectedResourceMetadata(mcpUrl);
    expect(prm.resource).toBe(mcpUrl);
    expect(prm.authorization_servers).toEqual([setup.worker.issuer]);
    const as = await discoverAuthorizationServerMetadata(prm.authorization_servers![0]!);
    expect(as?.issuer).toBe(setup.worker.issuer);
    expect(as?.client_id_metadata_document_supported).toBe(true);
    expect(as?.code_challenge_methods_supported).toEqual(["S256"]);
  });
});

describe("an MCP client identified by a Client ID Metadata Document", () => {
  it("authorizes, calls the tool, refreshes, and loses access when revoked", async () => {
    const path = "/clients/e2e-mcp-client.json";
    const clientId = documents.publish({
      path,
      headers: { "Cache-Control": "max-age=3600" },
      body: JSON.stringify({
        client_id: `${documents.origin}${path}`,
        client_name: "Acme MCP (metadata document)",
        redirect_uris: [setup.callback.redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      }),
    });
    const provider = new BrowserProvider(setup.callback.redirectUri, clientId);
    await authorize(
      provider,
      ["Acme MCP (metadata document)", "127.0.0.1", "runs on your own computer"],
      "mcp-cimd-consent",
    );
    expect(provider.info?.client_id).toBe(clientId); // no registration: the URL is the client_id
    expect(documents.hits(path).hits).toBe(1);

    const first = provider.saved!;
    const claims = decodeJwt(first.access_token);
    expect(claims.aud).toBe(mcpUrl);
    expect(claims.client_id).toBe(clientId);
    expect(await whoami(provider)).toEqual({
      sub: "usr_demo_admin",
      client_id: clientId,
      scopes: ["ir.incidents:read"],
    });

    // Refresh through the SDK: a new access token for the same resource, and the tool still works.
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe("AUTHORIZED");
    const second = provider.saved!;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).aud).toBe(mcpUrl);
    expect((await whoami(provider)).sub).toBe("usr_demo_admin");

    // Revoking the refresh token ends its family (RFC 7009 §2.1): the access token stops working at once.
    const revoked = await fetch(`${setup.worker.baseUrl}/oauth/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: clientId,
        token: second.refresh_token!,
        token_type_hint: "refresh_token",
      }),
    });
    expect(revoked.status).toBe(200);
    const denied = await rawToolCall(second.access_token);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await expect(auth(provider, { serverUrl: mcpUrl })).rejects.toThrow(); // the refresh token is dead too
  });
});

describe("an MCP client that registers dynamically (RFC 7591)", () => {
  it("registers, authorizes, calls the tool", async () => {
    const provider = new BrowserProvider(setup.callback.redirectUri);
    await authorize(provider, ["E2E MCP client (registered)", "registered itself"], "mcp-dcr-consent");
    expect(provider.info?.client_id).toMatch(/^[\w-]{16,}$/); // a registered id, not a URL
    const who = await whoami(provider);
    expect(who).toMatchObject({ sub: "usr_demo_admin", scopes: ["ir.incidents:read"] });
    expect(decodeJwt(provider.saved!.access_token).aud).toBe(mcpUrl);
  });
});

/**
 * DPoP (RFC 9449 §7) at the example MCP server. The MCP SDK client (1.32.2) has no DPoP support: it
 * reads dpop_* metadata but always sends `Authorization: Bearer` and makes no proofs. So this
 * client is oauth4webapi's DPoP() with protectedResourceRequest, against the same example server.
 */
describe("a DPoP client at the example MCP server", () => {
  it("gets a token bound to its key for the MCP server, calls the tool with proofs, and is refused as bearer", async () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const issuer = new URL(setup.worker.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    const registered = await fetch(as.registration_endpoint!, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        client_name: "E2E DPoP MCP client",
        redirect_uris: [setup.callback.redirectUri],
        token_endpoint_auth_method: "none",
        scope: "ir.incidents:read",
      }),
    });
    expect(registered.status).toBe(201);
    const client: oauth.Client = { client_id: ((await registered.json()) as { client_id: string }).client_id };
    const verifier = oauth.generateRandomCodeVerifier();
    const provider = new BrowserProvider(setup.callback.redirectUri);
    provider.authorizationUrl = new URL(as.authorization_endpoint!);
    provider.authorizationUrl.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: setup.callback.redirectUri,
      response_type: "code",
      scope: "ir.incidents:read",
      resource: mcpUrl,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    }).toString();
    const code = await approveInBrowser(provider, ["E2E DPoP MCP client"], "mcp-dpop-consent");
    const back = new URL(setup.callback.redirectUri);
    back.search = new URLSearchParams({ code, iss: setup.worker.issuer }).toString();
    const params = oauth.validateAuthResponse(as, client, back, oauth.skipStateCheck); // RFC 9207 iss checked
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const exchange = () =>
      oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, setup.callback.redirectUri, verifier, {
        DPoP,
        additionalParameters: { resource: mcpUrl },
        ...insecure,
      });
    let tokens: oauth.TokenEndpointResponse;
    try {
      tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange());
    } catch (e) {
      if (!oauth.isDPoPNonceError(e)) throw e; // RFC 9449 §8: one retry with the server's nonce
      tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange());
    }
    expect(tokens.token_type).toBe("dpop");
    expect(decodeJwt(tokens.access_token).aud).toBe(mcpUrl);

    const call = await oauth.protectedResourceRequest(
      tokens.access_token,
      "POST",
      new URL(mcpUrl),
      new Headers({ "Content-Type": "application/json", Accept: "application/json, text/event-stream" }),
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } }),
      { DPoP, ...insecure },
    );
    expect(call.status, await call.clone().text()).toBe(200);
    expect(JSON.stringify(await call.json())).toContain("usr_demo_admin");

    const asBearer = await rawToolCall(tokens.access_token);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get("www-authenticate")).toMatch(/^DPoP algs="[^"]+", error="invalid_token"/);
  });
});
