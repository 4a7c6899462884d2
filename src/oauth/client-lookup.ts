/**
 * Finding the client a request names: a registered id (D1, through the isolate cache), or an https
 * URL — a Client ID Metadata Document, fetched and kept as a D1 `clients` row with origin
 * "metadata_document" and id = the URL, so consents and token families can reference it like any
 * other client. The row is refetched once its document's cache lifetime (Cache-Control max-age,
 * clamped to 60 s … 24 h) has passed; a document that can no longer be fetched or validated makes
 * the client unusable (fail closed) until it can.
 */
import { eq } from "drizzle-orm";
import type { Env, Settings } from "../config";
import { SharedWork } from "../platform/shared-work";
import { type ClientRow, forgetClient, getClientCached } from "../store/clients";
import { dbOf } from "../store/db";
import { clients } from "../store/schema";
import {
  checkMetadataDocumentUrl,
  fetchMetadataDocument,
  isMetadataDocumentClientId,
  MetadataDocumentError,
  parseMetadataDocument,
} from "./client-metadata-document";

export type ClientResolution = { client: ClientRow; problem?: undefined } | { client?: undefined; problem: string };
export type ClientResolver = (clientId: string) => Promise<ClientResolution>;

/** Registered ids are short random tokens; metadata-document URLs are capped at 2 KB separately. */
const MAX_REGISTERED_ID_LENGTH = 512;
/** Metadata key holding when the stored copy of the document goes stale (Unix ms). */
const EXPIRES_KEY = "document_expires_at";

/**
 * One fetch per URL at a time in this isolate: concurrent first uses share it, but wait for it at
 * most 5 s (above the document fetch's own 3 s deadline plus the upsert) before fetching
 * themselves (see SharedWork for why a shared fetch may never settle).
 */
const documentFetches = new SharedWork<ClientResolution>(5000);

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
    // Upsert: team binding, revocation time and creation time of an existing row are kept. Only a
    // metadata_document row is ever overwritten.
    const db = dbOf(env.DB);
    const row = await db
      .insert(clients)
      .values({ id: clientId, teamId: null, origin: "metadata_document", secretHash: null, ...fields, createdAt: now })
      .onConflictDoUpdate({ target: clients.id, set: fields, setWhere: eq(clients.origin, "metadata_document") })
      .returning()
      .get();
    forgetClient(clientId);
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
  return documentFetches.run(clientId, () => refreshFromDocument(env, settings, url, clientId));
}

/** The client named by `clientId`, or why there is none (safe to show the client's developer). */
export async function resolveClient(env: Env, settings: Settings, clientId: string): Promise<ClientResolution> {
  if (isMetadataDocumentClientId(clientId)) return resolveMetadataDocumentClient(env, settings, clientId);
  if (clientId.length === 0 || clientId.length > MAX_REGISTERED_ID_LENGTH) return { problem: "unknown client" };
  const client = await getClientCached(dbOf(env.DB), settings, clientId);
  return client ? { client } : { problem: "unknown client" };
}

/** resolveClient bound to a request's bindings, for authenticateClient. */
export function clientResolver(env: Env, settings: Settings): ClientResolver {
  return (clientId) => resolveClient(env, settings, clientId);
}
