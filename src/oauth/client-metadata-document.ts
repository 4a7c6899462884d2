/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, "CIMD"): a
 * client whose client_id is an https URL publishes its metadata at that URL. This file holds the
 * rules — which client_ids name a document, what a document must say. The SSRF rules and the
 * bounded fetch (https port only, one error text for every failed fetch) are in client-fetch.ts;
 * persistence and caching (failures remembered for MIN_CACHE_SECONDS) in client-lookup.ts.
 */

import {
  checkFetchableUrl,
  type FetchedDocument,
  fetchFailedText,
  fetchPublicJson,
  MetadataDocumentError,
} from "./client-fetch";
import { parseRegistrationRequest, type RegistrationMetadata } from "./client-metadata";
import { OAuthError } from "./errors";
import { expandMetaScopes, isKnownScope, parseScope } from "./scopes";

export {
  cacheLifetimeSeconds,
  FETCH_TIMEOUT_MS,
  MAX_CACHE_SECONDS,
  MetadataDocumentError,
  MIN_CACHE_SECONDS,
} from "./client-fetch";

function refuse(reason: string): never {
  throw new MetadataDocumentError(reason);
}

const NOUN = "the metadata document";

/** The one text a caller sees for any failed fetch (client-fetch.ts logs the reason). */
export const FETCH_FAILED = fetchFailedText(NOUN);

/** A client_id that names a metadata document rather than a registered client. */
export function isMetadataDocumentClientId(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** The client_id as a metadata-document URL that may be fetched (checkFetchableUrl), or MetadataDocumentError. */
export function checkMetadataDocumentUrl(clientId: string, options: { allowLoopback: boolean }): URL {
  return checkFetchableUrl(clientId, "the client_id URL", options);
}

/**
 * GET the document (client-fetch.ts: no redirects, 3 s, at most MAX_METADATA_DOCUMENT_BYTES, JSON only). Call it only
 * with a URL checkMetadataDocumentUrl returned.
 */
export function fetchMetadataDocument(url: URL): Promise<FetchedDocument> {
  return fetchPublicJson(url, NOUN);
}

// ---- what the document must say ---------------------------------------------------------------------

/**
 * A document's `scope` restricts the client to the scopes we know from it (meta scopes expanded);
 * scopes we do not serve are ignored rather than fatal, since a document is written for many servers.
 * No `scope` → undefined (the default set).
 */
function documentScope(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") refuse("scope in the metadata document must be a string");
  const parsed = parseScope(value);
  if (!Array.isArray(parsed)) refuse(parsed.invalid);
  const known = expandMetaScopes(parsed.filter(isKnownScope));
  // Nothing we serve: openid alone (the app's scope is its ceiling, README "Scopes"), never the default set.
  return known.length > 0 ? known.join(" ") : "openid";
}

/**
 * The client a document describes, validated as RFC 7591 §2 metadata plus the draft's rules: its
 * client_id equals the URL exactly (draft §4.1), no shared secret (draft §4.1: client_secret and the
 * client_secret_* methods are forbidden): a public client ("none"), or one that authenticates with
 * private_key_jwt (RFC 7523) against the jwks or jwks_uri the document declares.
 */
export function parseMetadataDocument(
  clientId: string,
  document: Record<string, unknown>,
  options: { allowLoopback: boolean } = { allowLoopback: false },
): RegistrationMetadata {
  if (document.client_id !== clientId) refuse("the metadata document's client_id differs from its URL");
  if (document.client_secret !== undefined || document.client_secret_expires_at !== undefined) {
    refuse("a metadata document must not contain a client_secret");
  }
  const method = document.token_endpoint_auth_method ?? "none";
  if (method !== "none" && method !== "private_key_jwt") {
    refuse('token_endpoint_auth_method must be "none" or "private_key_jwt" for a metadata document client');
  }
  try {
    return parseRegistrationRequest(
      { ...document, token_endpoint_auth_method: method, scope: documentScope(document.scope) },
      options,
    );
  } catch (e) {
    if (e instanceof OAuthError) refuse(`the metadata document is invalid: ${e.description}`);
    throw e;
  }
}
