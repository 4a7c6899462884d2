/**
 * The request context every endpoint works with, in one place: the Hono environment, the caller's
 * address, the one body reader with the one size limit, the form readers built on it, the
 * authenticated client (RFC 6749 §2.3), and the context the oauth/ use cases receive.
 */
import type { Context } from "hono";
import type { Env, Settings } from "../config";
import { MAX_BODY_BYTES } from "../limits";
import { authenticateClient, readClientCredentials } from "../oauth/client-auth";
import { clientResolver } from "../oauth/client-lookup";
import { clientEndpointProof } from "../oauth/dpop";
import type { VerifiedProof } from "../oauth/dpop-proof";
import { OAuthError } from "../oauth/errors";
import type { GrantContext } from "../oauth/grants/context";
import type { ENDPOINT_PATHS } from "../oauth/metadata";
import type { CounterStore } from "../oauth/rate-limit";
import { readAtMost } from "../platform/bounded-read";
import { decodeUtf8 } from "../platform/utf8";
import type { ClientRow } from "../store/clients";
import { dbOf } from "../store/db";
import { FormFields } from "./form-fields";

/** Hono environment of every handler: the bindings and the settings parsed once per isolate. */
export interface AppEnv {
  Bindings: Env;
  Variables: { settings: Settings };
}

/** Any handler's context: the settings routes have richer Variables, which this accepts too. */
type AnyContext = Context<AppEnv> | Context<{ Bindings: Env; Variables: AppEnv["Variables"] }>;

/**
 * The caller's address. Cloudflare's edge always sets CF-Connecting-IP (a client cannot forge it
 * there), and so does `wrangler dev`; X-Forwarded-For is never trusted. Without the header every
 * caller shares the "unknown-ip" bucket of the registration limit; the audit log records null.
 */
export function clientIp(c: Pick<AnyContext, "req">): string | null {
  return c.req.header("CF-Connecting-IP")?.trim().slice(0, 64) || null;
}

/** Work that runs after the response (waitUntil); a failure is logged, never thrown at the caller. */
export function deferOf(c: Pick<AnyContext, "executionCtx">): (work: Promise<unknown>) => void {
  return (work) => c.executionCtx.waitUntil(work.catch((e) => console.error("background work failed:", e)));
}

/** The KV counters of the rate limits, written back through this request's waitUntil. */
export function countersOf(c: Pick<AnyContext, "env" | "executionCtx">): CounterStore {
  return { kv: c.env.RATE_LIMIT, defer: deferOf(c) };
}

/** What the oauth/ use cases receive: bindings, settings, the D1 handle, background work, the caller. */
export function useCaseContext(c: AnyContext): GrantContext {
  return {
    env: c.env,
    settings: c.get("settings"),
    db: dbOf(c.env.DB),
    defer: deferOf(c),
    ip: clientIp(c),
  };
}

/**
 * The request body as text: at most MAX_BODY_BYTES (413 before anything is parsed, whether the
 * length is declared or not) and valid UTF-8 (else invalid_request).
 */
export async function readBody(c: Pick<AnyContext, "req">): Promise<string> {
  const header = c.req.header("Content-Length");
  const declared = header !== undefined && /^\d{1,9}$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > MAX_BODY_BYTES) {
    throw new OAuthError("invalid_request", "request body is too large", { status: 413 });
  }
  const bytes = await readAtMost(c.req.raw, MAX_BODY_BYTES, declared);
  if (bytes === "too_large") throw new OAuthError("invalid_request", "request body is too large", { status: 413 });
  const text = decodeUtf8(bytes);
  if (text === undefined) throw new OAuthError("invalid_request", "request body is not valid UTF-8");
  return text;
}

const isFormType = (c: Pick<AnyContext, "req">) =>
  /^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("Content-Type") ?? "");

const isJsonType = (c: Pick<AnyContext, "req">) =>
  /^application\/json\s*(;|$)/i.test(c.req.header("Content-Type") ?? "");

/**
 * The form of a POST, every value of every name kept (pages' checkboxes share a name); an empty one
 * when the body is not `application/x-www-form-urlencoded`.
 */
export async function readFormParams(c: Pick<AnyContext, "req">): Promise<URLSearchParams> {
  return isFormType(c) ? new URLSearchParams(await readBody(c)) : new URLSearchParams();
}

/**
 * A page's form (every value kept), or the status of the error page to show instead: 413 when it is
 * larger than the body limit, 400 when it cannot be read. Pages answer people, never with JSON.
 */
export async function readPageForm(
  c: Pick<AnyContext, "req">,
): Promise<{ ok: true; form: FormFields } | { ok: false; status: 400 | 413 }> {
  try {
    return { ok: true, form: new FormFields(await readFormParams(c)) };
  } catch (e) {
    if (e instanceof OAuthError) return { ok: false, status: e.status === 413 ? 413 : 400 };
    throw e;
  }
}

/**
 * A machine endpoint's form: `application/x-www-form-urlencoded` only, and no parameter twice
 * (RFC 6749 §3.1, §3.2: parameters MUST NOT be included more than once).
 */
export async function readForm(c: Pick<AnyContext, "req">): Promise<Record<string, string>> {
  if (!isFormType(c)) throw new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  return uniqueParameters(new URLSearchParams(await readBody(c)));
}

/** The parameters by name; a repeated or empty-named parameter is invalid_request (RFC 6749 §3.1). */
export function uniqueParameters(params: URLSearchParams): Record<string, string> {
  const form: Record<string, string> = Object.create(null);
  for (const [name, value] of params) {
    if (name in form) throw new OAuthError("invalid_request", `parameter ${name.slice(0, 40)} is repeated`);
    form[name] = value;
  }
  return form;
}

/** A JSON request body as text, or `code` with 415 when it is not `application/json`. */
export async function readJsonBody(
  c: Pick<AnyContext, "req">,
  code: "invalid_request" | "invalid_client_metadata",
): Promise<string> {
  if (!isJsonType(c))
    throw new OAuthError(code, "the body must be application/json", { status: code === "invalid_request" ? 415 : 400 });
  return readBody(c);
}

/**
 * The client a token, revocation or introspection request authenticates as (RFC 6749 §2.3):
 * HTTP Basic, the form's client_id/client_secret, or a private_key_jwt assertion (RFC 7523 §2.2,
 * its jti spent in the client's ClientReplay object); registered ids and metadata-document URLs.
 */
export function authenticatedClient(c: AnyContext, form: Record<string, string>): Promise<ClientRow> {
  const settings = c.get("settings");
  return authenticateClient(
    dbOf(c.env.DB),
    settings,
    readClientCredentials(c.req.header("Authorization"), form),
    clientResolver(c.env, settings),
    c.env,
  );
}

/** A revocation (RFC 7009 §2.1) or introspection (RFC 7662 §2.1) request, read the one way both are. */
export interface TokenStatusRequest {
  ctx: GrantContext;
  client: ClientRow;
  token: string;
  hint: string | undefined;
  /** RFC 9449 defines none here; one sent anyway is checked and spent, never silently ignored. */
  proof: VerifiedProof | undefined;
}

/** The form, the authenticated client, the token it names (required) and any DPoP proof. */
export async function readTokenStatusRequest(
  c: Context<AppEnv>,
  path: (typeof ENDPOINT_PATHS)["introspection" | "revocation"],
): Promise<TokenStatusRequest> {
  const form = await readForm(c);
  const client = await authenticatedClient(c, form);
  if (!form.token) throw new OAuthError("invalid_request", "token is required");
  const ctx = useCaseContext(c);
  const proof = await clientEndpointProof(ctx.settings, path, c.req.header("DPoP"));
  return { ctx, client, token: form.token, hint: form.token_type_hint, proof };
}
