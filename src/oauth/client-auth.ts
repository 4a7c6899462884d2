/**
 * Client authentication (RFC 6749 §2.3): the one function the token, revocation and introspection
 * endpoints use, and the one place that defines what client ids and secrets look like and how a
 * secret is stored.
 */
import type { Settings } from "../config";
import { MAX_CLIENT_ID_LENGTH } from "../limits";
import { decodeUtf8 } from "../platform/utf8";
import { type ClientRow, forgetClient, getClientCached } from "../store/clients";
import type { Db } from "../store/db";
import { randomToken, sha256, timingSafeEqual } from "../tokens/secrets";
import type { ClientResolver } from "./client-lookup";
import { OAuthError } from "./errors";

export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "none";

export interface ClientCredentials {
  clientId: string;
  secret?: string;
  method: ClientAuthMethod;
}

/** Prefixed so secret scanners can recognise a leaked client secret. */
const SECRET_PREFIX = "eoidc_cs_";

/** 128 random bits, URL-safe (the id appears in the RFC 7592 registration_client_uri). */
export function newClientId(): string {
  return randomToken(16);
}

/** A new client secret (256 bits) and the SHA-256 that is all the database ever keeps. */
export async function newClientSecret(): Promise<{ secret: string; hash: string }> {
  const secret = `${SECRET_PREFIX}${randomToken(32)}`;
  return { secret, hash: await sha256(secret) };
}

function decodeFormComponent(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

function basicFailure(description: string): OAuthError {
  return new OAuthError("invalid_client", description, { basicChallenge: true });
}

/** RFC 6749 §2.3.1: base64 of `urlencode(client_id) ":" urlencode(client_secret)`. */
function parseBasic(credentials: string): { clientId: string; secret: string } {
  let binary: string;
  try {
    binary = atob(credentials.trim());
  } catch {
    throw basicFailure("the Basic credentials are not valid base64 of UTF-8");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const decoded = decodeUtf8(bytes);
  if (decoded === undefined) throw basicFailure("the Basic credentials are not valid base64 of UTF-8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw basicFailure("the Basic credentials have no ':' between client_id and secret");
  const clientId = decodeFormComponent(decoded.slice(0, colon));
  const secret = decodeFormComponent(decoded.slice(colon + 1));
  if (!clientId || secret === undefined) throw basicFailure("the Basic credentials are not form-urlencoded");
  return { clientId, secret };
}

/**
 * Which client is calling and how it claims to authenticate: HTTP Basic (client_secret_basic),
 * client_id + client_secret in the form (client_secret_post), or client_id alone (none, public
 * clients). Throws `invalid_request` for two methods at once (RFC 6749 §2.3) and `invalid_client`
 * when no client is named.
 */
export function readClientCredentials(
  authorization: string | undefined,
  form: Record<string, string>,
): ClientCredentials {
  const formId = form.client_id || undefined;
  const formSecret = form.client_secret || undefined;
  if (authorization !== undefined && authorization !== "") {
    const match = /^Basic +(\S+) *$/i.exec(authorization);
    if (!match) throw basicFailure("the Authorization header must use the Basic scheme");
    const basic = parseBasic(match[1] as string);
    if (formSecret !== undefined) {
      throw new OAuthError("invalid_request", "use one client authentication method, not Basic and client_secret");
    }
    if (formId !== undefined && formId !== basic.clientId) {
      throw new OAuthError("invalid_request", "client_id in the body differs from the one in the Basic credentials");
    }
    return { clientId: basic.clientId, secret: basic.secret, method: "client_secret_basic" };
  }
  if (formId === undefined) throw new OAuthError("invalid_client", "client authentication is required");
  if (formSecret !== undefined) return { clientId: formId, secret: formSecret, method: "client_secret_post" };
  return { clientId: formId, method: "none" };
}

async function secretMatches(client: ClientRow, secret: string | undefined): Promise<boolean> {
  if (secret === undefined || !client.secretHash) return false;
  return timingSafeEqual(await sha256(secret), client.secretHash);
}

/** Why these credentials do not authenticate this client, or undefined when they do. */
async function rejection(client: ClientRow, creds: ClientCredentials): Promise<string | undefined> {
  if (client.tokenEndpointAuthMethod === "none") {
    return creds.method === "none" ? undefined : "this is a public client: send client_id only, no secret";
  }
  if (creds.method !== client.tokenEndpointAuthMethod) {
    return `this client must authenticate with ${client.tokenEndpointAuthMethod}`;
  }
  return (await secretMatches(client, creds.secret)) ? undefined : "client authentication failed";
}

/** The default lookup: registered clients only (D1 through the isolate cache). */
function registeredClients(db: Db, settings: Settings): ClientResolver {
  return async (clientId) => {
    const client = await getClientCached(db, settings, clientId);
    return client ? { client } : { problem: "unknown client" };
  };
}

/**
 * The authenticated client, or `invalid_client` (401; `WWW-Authenticate: Basic` when Basic was used,
 * RFC 6749 §5.2). The registered token_endpoint_auth_method is enforced; secrets are compared as
 * SHA-256 hashes in constant time. Endpoints pass `clientResolver(env, settings)` from
 * client-lookup.ts so that metadata-document URLs resolve too; without it only registered ids do.
 */
export async function authenticateClient(
  db: Db,
  settings: Settings,
  creds: ClientCredentials,
  resolve: ClientResolver = registeredClients(db, settings),
): Promise<ClientRow> {
  const fail = (description: string) =>
    new OAuthError("invalid_client", description, { basicChallenge: creds.method === "client_secret_basic" });
  if (creds.clientId.length > MAX_CLIENT_ID_LENGTH) throw fail("unknown client");
  let found = await resolve(creds.clientId);
  if (!found.client) throw fail(found.problem);
  let why = await rejection(found.client, creds);
  if (why && settings.clientCacheSeconds > 0) {
    // The cached record may predate a secret reset in another isolate: a new secret must work at once.
    forgetClient(creds.clientId);
    found = await resolve(creds.clientId);
    if (!found.client) throw fail(found.problem);
    why = await rejection(found.client, creds);
  }
  if (why) throw fail(why);
  return found.client;
}
