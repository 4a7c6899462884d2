import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import {
  authenticateClient,
  type ClientCredentials,
  newClientSecret,
  readClientCredentials,
} from "../src/oauth/client-auth";
import { OAuthError, renderOAuthError } from "../src/oauth/errors";
import { forgetClient, getClientCached, insertClient } from "../src/store/clients";
import { dbOf } from "../src/store/db";
import { randomToken } from "../src/tokens/secrets";

const db = dbOf(env.DB);
const settings = settingsOf(env);

const basic = (id: string, secret: string) =>
  `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

async function client(method: "none" | "client_secret_basic" | "client_secret_post") {
  const id = `c_${randomToken(9)}`;
  const secret = method === "none" ? undefined : await newClientSecret();
  await insertClient(db, {
    id,
    teamId: "team_demo",
    origin: "admin",
    name: "Auth Test",
    applicationType: "web",
    tokenEndpointAuthMethod: method,
    secretHash: secret?.hash ?? null,
    redirectUris: ["https://app.example/cb"],
    grantTypes: ["authorization_code"],
    scopes: ["openid"],
  });
  return { id, secret: secret?.secret };
}

function caught(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error("expected an OAuthError");
}

async function rejected(creds: ClientCredentials): Promise<OAuthError> {
  const err = await authenticateClient(db, settings, creds).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  return err as OAuthError;
}

describe("readClientCredentials (RFC 6749 §2.3)", () => {
  it("decodes client_secret_basic: base64 of form-urlencoded id:secret (§2.3.1)", () => {
    const header = `Basic ${btoa("my%3Aclient:s%2Bc+ret%25")}`;
    expect(readClientCredentials(header, {})).toEqual({
      clientId: "my:client",
      secret: "s+c ret%",
      method: "client_secret_basic",
    });
    expect(readClientCredentials(basic("ü-client", "pässword"), {}).secret).toBe("pässword");
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    expect(readClientCredentials(`basic ${btoa("a:b")}`, {}).clientId).toBe("a");
  });

  it("accepts the same client_id in the body alongside Basic", () => {
    expect(readClientCredentials(basic("a", "b"), { client_id: "a" }).method).toBe("client_secret_basic");
  });

  it("reads client_secret_post and none", () => {
    expect(readClientCredentials(undefined, { client_id: "a", client_secret: "s" })).toEqual({
      clientId: "a",
      secret: "s",
      method: "client_secret_post",
    });
    expect(readClientCredentials(undefined, { client_id: "a" })).toEqual({ clientId: "a", method: "none" });
  });

  it("refuses two authentication methods at once with invalid_request (§2.3)", () => {
    const err = caught(() => readClientCredentials(basic("a", "b"), { client_id: "a", client_secret: "b" }));
    expect(err.code).toBe("invalid_request");
    expect(caught(() => readClientCredentials(basic("a", "b"), { client_id: "other" })).code).toBe("invalid_request");
  });

  it("answers missing credentials with invalid_client", () => {
    const err = caught(() => readClientCredentials(undefined, {}));
    expect(err.code).toBe("invalid_client");
    expect(err.status).toBe(401);
  });

  it.each([
    ["not base64", "Basic %%%"],
    ["no colon", `Basic ${btoa("just-an-id")}`],
    ["empty client id", `Basic ${btoa(":secret")}`],
    ["bad percent-encoding", `Basic ${btoa("%E0%A4%A:x")}`],
    ["invalid UTF-8", `Basic ${btoa("\xff\xfe:x")}`],
    ["another scheme", "Bearer abc"],
  ])("refuses malformed Basic credentials (%s) with invalid_client and a Basic challenge", (_what, header) => {
    const err = caught(() => readClientCredentials(header, {}));
    expect(err.code).toBe("invalid_client");
    expect(renderOAuthError(err).headers.get("WWW-Authenticate")).toMatch(/^Basic /);
  });
});

describe("authenticateClient", () => {
  it("authenticates a confidential client with its registered method", async () => {
    const c = await client("client_secret_basic");
    const row = await authenticateClient(db, settings, readClientCredentials(basic(c.id, c.secret!), {}));
    expect(row.id).toBe(c.id);
    const p = await client("client_secret_post");
    const creds = readClientCredentials(undefined, { client_id: p.id, client_secret: p.secret! });
    expect((await authenticateClient(db, settings, creds)).id).toBe(p.id);
  });

  it("answers a wrong secret with 401 invalid_client and WWW-Authenticate: Basic when Basic was used (RFC 6749 §5.2)", async () => {
    const c = await client("client_secret_basic");
    const err = await rejected(readClientCredentials(basic(c.id, `${c.secret}x`), {}));
    expect(err.code).toBe("invalid_client");
    const res = renderOAuthError(err);
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Basic realm=/);
  });

  it("answers a wrong posted secret with 401 invalid_client and no Basic challenge", async () => {
    const c = await client("client_secret_post");
    const err = await rejected({ clientId: c.id, secret: "wrong", method: "client_secret_post" });
    const res = renderOAuthError(err);
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
  });

  it("enforces the registered token_endpoint_auth_method", async () => {
    const b = await client("client_secret_basic");
    expect((await rejected({ clientId: b.id, secret: b.secret, method: "client_secret_post" })).code).toBe(
      "invalid_client",
    );
    expect((await rejected({ clientId: b.id, method: "none" })).code).toBe("invalid_client");
    const p = await client("client_secret_post");
    expect((await rejected({ clientId: p.id, secret: p.secret, method: "client_secret_basic" })).code).toBe(
      "invalid_client",
    );
  });

  it("authenticates a public client by client_id alone and refuses it when it sends a secret", async () => {
    const c = await client("none");
    expect((await authenticateClient(db, settings, { clientId: c.id, method: "none" })).id).toBe(c.id);
    expect((await rejected({ clientId: c.id, secret: "x", method: "client_secret_post" })).code).toBe("invalid_client");
    expect((await rejected({ clientId: c.id, secret: "", method: "client_secret_basic" })).code).toBe("invalid_client");
  });

  it("answers unknown clients, including https URL client_ids, with invalid_client", async () => {
    for (const clientId of ["nope", "https://mcp.example.com/client.json", "x".repeat(5000)]) {
      const err = await rejected({ clientId, secret: "s", method: "client_secret_basic" });
      expect(err.code).toBe("invalid_client");
      expect(renderOAuthError(err).headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    }
  });

  it("accepts a secret reset elsewhere at once, even with the old record cached here", async () => {
    const c = await client("client_secret_basic");
    await authenticateClient(db, settings, { clientId: c.id, secret: c.secret, method: "client_secret_basic" });
    // Another isolate resets the secret: D1 changes, this isolate's cache does not hear of it.
    const fresh = await newClientSecret();
    await env.DB.prepare("UPDATE clients SET secret_hash = ? WHERE id = ?").bind(fresh.hash, c.id).run();
    const row = await authenticateClient(db, settings, {
      clientId: c.id,
      secret: fresh.secret,
      method: "client_secret_basic",
    });
    expect(row.secretHash).toBe(fresh.hash);
    expect((await rejected({ clientId: c.id, secret: c.secret, method: "client_secret_basic" })).code).toBe(
      "invalid_client",
    );
  });
});

describe("getClientCached", () => {
  it("caches hits for clientCacheSeconds, never misses, and forgetClient drops an entry", async () => {
    const id = `c_${randomToken(9)}`;
    expect(await getClientCached(db, settings, id)).toBeUndefined();
    await insertClient(db, {
      id,
      origin: "admin",
      name: "Before",
      applicationType: "web",
      tokenEndpointAuthMethod: "none",
      redirectUris: ["https://app.example/cb"],
      grantTypes: ["authorization_code"],
      scopes: [],
    });
    // A miss was not remembered: the new client is found at once.
    expect((await getClientCached(db, settings, id))?.name).toBe("Before");
    await env.DB.prepare("UPDATE clients SET name = 'After' WHERE id = ?").bind(id).run();
    expect((await getClientCached(db, settings, id))?.name).toBe("Before");
    forgetClient(id);
    expect((await getClientCached(db, settings, id))?.name).toBe("After");
    expect((await getClientCached(db, { clientCacheSeconds: 0 }, id))?.name).toBe("After");
  });
});
