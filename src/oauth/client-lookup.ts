/**
 * Finding the client a request names: a registered id (D1, through the isolate cache), or an https
 * URL — a Client ID Metadata Document, fetched and kept as a D1 `clients` row with origin
 * "metadata_document" and id = the URL, so consents and token families can reference it like any
 * other client. The row is refetched once its document's cache lifetime (Cache-Control max-age,
 * clamped to 60 s … 24 h) has passed; a document that can no longer be fetched or validated makes
 * the client unusable (fail closed) until it can.
 */
import type { Env, Settings } from "../config";
import { MAX_REGISTERED_CLIENT_ID_LENGTH } from "../limits";
import { SharedWork } from "../platform/shared-work";
import { type ClientRow, getClientCached, upsertMetadataDocumentClient } from "../store/clients";
import { dbOf } from "../store/db";
import { RememberedFailures } from "./client-fetch";
import {
  checkMetadataDocumentUrl,
  fetchMetadataDocument,
  isMetadataDocumentClientId,
  MetadataDocumentError,
  parseMetadataDocument,
} from "./client-metadata-document";

export type ClientResolution = { client: ClientRow; problem?: undefined } | { client?: undefined; problem: string };
export type ClientResolver = (clientId: string) => Promise<ClientResolution>;

/** Metadata key holding when the stored copy of the document goes stale (Unix ms). */
const EXPIRES_KEY = "document_expires_at";

/**
 * One fetch per URL at a time in this isolate: concurrent first uses share it, but wait for it at
 * most 5 s (above the document fetch's own 3 s deadline plus the upsert) before fetching
 * themselves (see SharedWork for why a shared fetch may never settle).
 */
const documentFetches = new SharedWork<ClientResolution>(5000);

/**
 * Documents that could not be fetched or used, remembered in this isolate for MIN_CACHE_SECONDS, so
 * anonymous callers naming a failing URL cannot make the worker fetch it again and again.
 */
const failures = new RememberedFailures();

async function fetchOnce(env: Env, settings: Settings, url: URL, clientId: string): Promise<ClientResolution> {
  const now = Date.now();
  const failed = failures.problem(clientId, now);
  if (failed !== undefined) return { problem: failed };
  const resolution = await refreshFromDocument(env, settings, url, clientId);
  if (resolution.problem !== undefined) failures.remember(clientId, resolution.problem, now);
  else failures.forget(clientId);
  return resolution;
}

function isFresh(row: ClientRow, now: number): boolean {
  const expires = row.metadata[EXPIRES_KEY];
  return typeof expires === "number" && expires > now;
}

async function refreshFromDocument(
  env: Env,
  settings: Settings,
  url: URL,
  clientId: string,
): Promise<ClientResolution> {
  try {
    const fetched = await fetchMetadataDocument(url);
    const parsed = parseMetadataDocument(clientId, fetched.document, {
      allowLoopback: settings.allowLoopbackMetadataDocuments,
    });
    const now = Date.now();
    const fields = {
      name: parsed.clientName ?? url.host,
      applicationType: parsed.applicationType,
      tokenEndpointAuthMethod: parsed.tokenEndpointAuthMethod,
      redirectUris: parsed.redirectUris,
      grantTypes: parsed.grantTypes,
      scopes: parsed.scopes,
      idTokenSignedResponseAlg: parsed.idTokenSignedResponseAlg,
      metadata: { ...parsed.metadata, [EXPIRES_KEY]: now + fetched.maxAgeSeconds * 1000 },
      updatedAt: now,
    };
    const row = await upsertMetadataDocumentClient(dbOf(env.DB), clientId, fields);
    if (!row) return { problem: "this client_id belongs to another client" };
    return { client: row };
  } catch (e) {
    if (e instanceof MetadataDocumentError) return { problem: e.message };
    throw e;
  }
}

async function resolveMetadataDocumentClient(
  env: Env,
  settings: Settings,
  clientId: string,
): Promise<ClientResolution> {
  let url: URL;
  try {
    url = checkMetadataDocumentUrl(clientId, { allowLoopback: settings.allowLoopbackMetadataDocuments });
  } catch (e) {
    if (e instanceof MetadataDocumentError) return { problem: e.message };
    throw e;
  }
  const stored = await getClientCached(dbOf(env.DB), settings, clientId);
  if (stored && stored.origin !== "metadata_document") return { client: stored };
  if (stored && isFresh(stored, Date.now())) return { client: stored };
  return documentFetches.run(clientId, () => fetchOnce(env, settings, url, clientId));
}

/** The client named by `clientId`, or why there is none (safe to show the client's developer). */
export async function resolveClient(env: Env, settings: Settings, clientId: string): Promise<ClientResolution> {
  if (isMetadataDocumentClientId(clientId)) return resolveMetadataDocumentClient(env, settings, clientId);
  if (clientId.length === 0 || clientId.length > MAX_REGISTERED_CLIENT_ID_LENGTH) return { problem: "unknown client" };
  const client = await getClientCached(dbOf(env.DB), settings, clientId);
  return client ? { client } : { problem: "unknown client" };
}

/** resolveClient bound to a request's bindings, for authenticateClient. */
export function clientResolver(env: Env, settings: Settings): ClientResolver {
  return (clientId) => resolveClient(env, settings, clientId);
}
