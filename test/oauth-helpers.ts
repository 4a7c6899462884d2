/** Building blocks for protocol tests: clients, signed-in users, PKCE and codes. */
import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { expect } from "vitest";
import type { Env } from "../src/config";
import { insertClient } from "../src/store/clients";
import { dbOf } from "../src/store/db";
import { randomToken, sha256 } from "../src/tokens/secrets";
import { call, callWith } from "./helpers";

export const DEMO = {
  team: "team_demo",
  admin: "usr_demo_admin",
  member: "usr_demo_member",
  observer: "usr_demo_observer",
} as const;

export interface TestClient {
  id: string;
  secret?: string;
  redirectUri: string;
  method: "none" | "client_secret_basic" | "client_secret_post" | "private_key_jwt";
}

export async function createTestClient(
  options: {
    method?: TestClient["method"];
    scopes?: string[];
    teamId?: string | null;
    automaticConsent?: boolean;
    redirectUri?: string;
    idTokenAlg?: "RS256" | "ES256";
    /** RFC 7591 metadata kept with the client (e.g. dpop_bound_access_tokens, jwks). */
    metadata?: Record<string, unknown>;
    grantTypes?: string[];
    postLogoutRedirectUris?: string[];
  } = {},
): Promise<TestClient> {
  const id = `test_${randomToken(9)}`;
  const method = options.method ?? "none";
  const secret = method === "none" || method === "private_key_jwt" ? undefined : randomToken(32);
  const redirectUri = options.redirectUri ?? "https://app.example/callback";
  await insertClient(dbOf(env.DB), {
    id,
    teamId: options.teamId === undefined ? DEMO.team : options.teamId,
    origin: "registered",
    name: "Test App",
    applicationType: "web",
    tokenEndpointAuthMethod: method,
    secretHash: secret ? await sha256(secret) : null,
    redirectUris: [redirectUri],
    grantTypes: options.grantTypes ?? ["authorization_code", "refresh_token"],
    postLogoutRedirectUris: options.postLogoutRedirectUris ?? [],
    scopes: options.scopes ?? [
      "openid",
      "profile",
      "email",
      "offline_access",
      "ir.incidents:read",
      "ir.incidents:write",
      "oc.alerts:read",
    ],
    automaticConsent: options.automaticConsent ?? true,
    idTokenSignedResponseAlg: options.idTokenAlg ?? "RS256",
    metadata: options.metadata ?? {},
  });
  return { id, secret, redirectUri, method };
}

/** A browser session for a seeded user, as the cookie header a browser would send. */
export async function sessionCookie(userId: string, authTime = Math.floor(Date.now() / 1000)): Promise<string> {
  const value = randomToken(32);
  await env.DB.prepare(
    "INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
  )
    .bind(await sha256(value), userId, authTime, Date.now(), Date.now() + 3600_000)
    .run();
  return `eoidc_session=${value}`;
}

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = randomToken(32);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url.encode(new Uint8Array(digest)) };
}

export function authorizeUrl(client: TestClient, challenge: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({
    response_type: "code",
    client_id: client.id,
    redirect_uri: client.redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-123",
    ...extra,
  });
  return `/oauth/authorize?${q}`;
}

/**
 * Runs /oauth/authorize for a signed-in user whose client needs no consent screen; returns the code
 * once the request's background work (the family's row in the D1 index, written in batches) is done.
 */
export async function obtainCode(
  client: TestClient,
  userId: string = DEMO.admin,
  extra: Record<string, string> = {},
  bindings?: Env,
): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = await pkcePair();
  const res = await callWith(
    bindings ?? env,
    authorizeUrl(client, challenge, { scope: "openid profile email ir.incidents:read", ...extra }),
    {
      headers: { Cookie: await sessionCookie(userId) },
      redirect: "manual",
    },
  );
  expect(res.status, await res.clone().text()).toBe(302);
  const location = new URL(res.headers.get("location")!);
  const code = location.searchParams.get("code");
  expect(code, location.href).toBeTruthy();
  return { code: code!, verifier };
}

/** A token request authenticated as `client`; `bindings` other settings than the default ones. */
export function tokenRequest(
  client: TestClient,
  params: Record<string, string>,
  headers: Record<string, string> = {},
  bindings?: Env,
) {
  const body = new URLSearchParams(params);
  const h: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded", ...headers };
  if (client.method === "client_secret_basic") {
    h.Authorization = `Basic ${btoa(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret!)}`)}`;
  } else {
    body.set("client_id", client.id);
    if (client.method === "client_secret_post") body.set("client_secret", client.secret!);
  }
  return callWith(bindings, "/oauth/token", { method: "POST", headers: h, body });
}

export async function exchangeCode(
  client: TestClient,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
  bindings?: Env,
) {
  return tokenRequest(
    client,
    { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: client.redirectUri, ...extra },
    headers,
    bindings,
  );
}

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";

/** A request to the admin API with the operator's token (ADMIN_API_TOKEN), as `npm run admin` sends it. */
export function adminRequest(method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** The operator's admin API (ADMIN_API_TOKEN), as `npm run admin` calls it. */
export function adminApi(method: string, path: string, body?: unknown): Promise<Response> {
  return call(`/api/admin${path}`, adminRequest(method, body));
}

/** A client_credentials app made by the operator in the Demo team, as an admin makes one (its service user published). */
export async function createServiceAppByAdmin(
  name: string,
  scope = "ir.incidents:read",
): Promise<TestClient & { serviceUserId: string }> {
  const res = await adminApi("POST", "/apps", {
    name,
    type: "client_credentials",
    scope,
    team_id: DEMO.team,
  });
  expect(res.status).toBe(201);
  const app = (await res.json()) as { client_id: string; client_secret: string; service_user_id: string };
  return {
    id: app.client_id,
    secret: app.client_secret,
    method: "client_secret_basic",
    redirectUri: "",
    serviceUserId: app.service_user_id,
  };
}

/**
 * Changes a person's roles through the one writer every surface uses (PATCH /api/admin/members):
 * D1 and the person's UserGrants object together, as in production.
 */
export async function setRoles(
  userId: string,
  roles: { role?: string; on_call_role?: string },
  teamId: string = DEMO.team,
): Promise<void> {
  const res = await adminApi(
    "PATCH",
    `/members/${encodeURIComponent(userId)}?team_id=${encodeURIComponent(teamId)}`,
    roles,
  );
  expect(res.status, await res.clone().text()).toBe(200);
}
