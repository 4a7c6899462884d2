/**
 * Client authentication (RFC 6749 §2.3): the one function the token, revocation and introspection
 * endpoints use, and the one place that defines what client ids and secrets look like and how a
 * secret is stored. Methods: client_secret_basic, client_secret_post, private_key_jwt (RFC 7523
 * §2.2, client-assertion.ts) and none (public clients).
 */
import type { Env, Settings } from "../config";
import { MAX_CLIENT_ID_LENGTH } from "../limits";
import { decodeUtf8 } from "../platform/utf8";
import { type ClientRow, forgetClient, getClientCached } from "../store/clients";
import type { Db } from "../store/db";
import { randomToken, sha256, timingSafeEqual } from "../tokens/secrets";
import { assertionSubject, CLIENT_ASSERTION_TYPE, spendAssertionJti, verifyClientAssertion } from "./client-assertion";
import type { ClientResolver } from "./client-lookup";
import { OAuthError } from "./errors";

export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";

export interface ClientCredentials {
  clientId: string;
  secret?: string;
  /** private_key_jwt: the signed client assertion (RFC 7523 §2.2). */
  assertion?: string;
  method: ClientAuthMethod;
}

/** Prefixed so secret scanners can recognise a leaked client secret. */
const SECRET_PREFIX = "eoidc_cs_";

/**
 * 128 random bits, URL-safe (the id appears in the RFC 7592 registration_client_uri). Prefixed,
 * like every other id here, so it never begins with "-" and passes as a command-line argument.
 */
export function newClientId(): string {
  return `app_${randomToken(16)}`;
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
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
    return readClientAssertion(authorization, form, formId, formSecret);
  }
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

/** RFC 7521 §4.2 / RFC 7523 §2.2: client_assertion_type + client_assertion, and no other method. */
function readClientAssertion(
  authorization: string | undefined,
  form: Record<string, string>,
  formId: string | undefined,
  formSecret: string | undefined,
): ClientCredentials {
  if ((authorization !== undefined && authorization !== "") || formSecret !== undefined) {
    throw new OAuthError("invalid_request", "use one client authentication method, not a secret and an assertion");
  }
  if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
    throw new OAuthError("invalid_client", `client_assertion_type must be ${CLIENT_ASSERTION_TYPE} (RFC 7523 §2.2)`);
  }
  const assertion = form.client_assertion;
  if (!assertion) throw new OAuthError("invalid_request", "client_assertion is required with client_assertion_type");
  // RFC 7523 §3: client_id is optional; the assertion's sub names the client.
  const clientId = formId ?? assertionSubject(assertion);
  if (!clientId) throw new OAuthError("invalid_client", "the client assertion names no client (sub)");
  return { clientId, assertion, method: "private_key_jwt" };
}

async function secretMatches(client: ClientRow, secret: string | undefined): Promise<boolean> {
  if (secret === undefined || !client.secretHash) return false;
  return timingSafeEqual(await sha256(secret), client.secretHash);
}

type Verdict = { problem: string } | { ok: true; assertionJti?: { jti: string; expiresAt: number } };

/** Whether these credentials authenticate this client; an accepted assertion's jti is still to be spent. */
async function verdict(settings: Settings, client: ClientRow, creds: ClientCredentials): Promise<Verdict> {
  if (client.tokenEndpointAuthMethod === "none") {
    return creds.method === "none"
      ? { ok: true }
      : { problem: "this is a public client: send client_id only, no secret" };
  }
  if (creds.method !== client.tokenEndpointAuthMethod) {
    return { problem: `this client must authenticate with ${client.tokenEndpointAuthMethod}` };
  }
  if (creds.method === "private_key_jwt") {
    const checked = await verifyClientAssertion(settings, client, creds.assertion ?? "");
    return "problem" in checked ? checked : { ok: true, assertionJti: checked };
  }
  return (await secretMatches(client, creds.secret)) ? { ok: true } : { problem: "client authentication failed" };
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
 * `env` reaches the client's ClientReplay object, where a private_key_jwt assertion's jti is spent
 * (RFC 7523 §3 point 7) — only after everything else about the request's client checked out.
 */
export async function authenticateClient(
  db: Db,
  settings: Settings,
  creds: ClientCredentials,
  resolve: ClientResolver = registeredClients(db, settings),
  env?: Env,
): Promise<ClientRow> {
  const fail = (description: string) =>
    new OAuthError("invalid_client", description, { basicChallenge: creds.method === "client_secret_basic" });
  if (creds.clientId.length > MAX_CLIENT_ID_LENGTH) throw fail("unknown client");
  let found = await resolve(creds.clientId);
  if (!found.client) throw fail(found.problem);
  let result = await verdict(settings, found.client, creds);
  if ("problem" in result && settings.clientCacheSeconds > 0) {
    // The cached record may predate a secret reset (or new keys) in another isolate: they must work at once.
    forgetClient(creds.clientId);
    found = await resolve(creds.clientId);
    if (!found.client) throw fail(found.problem);
    result = await verdict(settings, found.client, creds);
  }
  if ("problem" in result) throw fail(result.problem);
  if (result.assertionJti) {
    if (!env) throw fail("private_key_jwt is not available here");
    const { jti, expiresAt } = result.assertionJti;
    if (!(await spendAssertionJti(env, found.client.id, jti, expiresAt))) {
      throw fail("this client assertion was already used (RFC 7523 §3)");
    }
  }
  return found.client;
}
