/**
 * Dynamic client registration (RFC 7591 §3) and the RFC 7592 §2.1 read of a registered client.
 * Use cases: validated metadata in, stored client and the response document out; no HTTP here.
 */
import type { Settings } from "../config";
import { MAX_REGISTERED_CLIENT_ID_LENGTH } from "../limits";
import { type ClientRow, getClient, insertClient } from "../store/clients";
import type { Db } from "../store/db";
import { randomToken, sha256, timingSafeEqual } from "../tokens/secrets";
import { newClientId, newClientSecret } from "./client-auth";
import { parseRegistrationRequest } from "./client-metadata";
import { OAuthError } from "./errors";
import { ENDPOINT_PATHS, endpointUrl } from "./metadata";
import { formatScope } from "./scopes";

/** Prefixed so secret scanners can recognise a leaked registration access token. */
const REGISTRATION_TOKEN_PREFIX = "eoidc_rat_";

/** The client's metadata as RFC 7591 §3.2.1 lists it, never its secret. */
export function registeredClientMetadata(settings: Settings, client: ClientRow): Record<string, unknown> {
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(client.createdAt / 1000),
    client_name: client.name,
    redirect_uris: client.redirectUris,
    ...(client.postLogoutRedirectUris.length > 0 ? { post_logout_redirect_uris: client.postLogoutRedirectUris } : {}),
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes("authorization_code") ? ["code"] : [],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    application_type: client.applicationType,
    scope: formatScope(client.scopes),
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    ...client.metadata,
    registration_client_uri: endpointUrl(settings, `${ENDPOINT_PATHS.registration}/${encodeURIComponent(client.id)}`),
  };
}

/**
 * Registers a self-service client: origin "registered", no team yet (fixed when its first user
 * authorizes it). The client secret (confidential clients) and the registration access token are
 * returned here once and stored only as SHA-256 hashes.
 */
export async function registerClient(
  db: Db,
  settings: Settings,
  body: Record<string, unknown>,
  ip: string,
): Promise<Record<string, unknown>> {
  const request = parseRegistrationRequest(body, { allowLoopback: settings.allowLoopbackMetadataDocuments });
  // A shared secret only for the client_secret_* methods: private_key_jwt clients registered keys instead.
  const secret = request.tokenEndpointAuthMethod.startsWith("client_secret_") ? await newClientSecret() : undefined;
  const registrationToken = `${REGISTRATION_TOKEN_PREFIX}${randomToken(32)}`;
  const now = Date.now();
  const row: ClientRow = {
    id: newClientId(),
    teamId: null,
    origin: "registered",
    // RFC 7591 §3.2.1 lets the server substitute a value: the consent page needs some name.
    name:
      request.clientName ?? (request.redirectUris[0] ? new URL(request.redirectUris[0]).host : "Unnamed device app"),
    applicationType: request.applicationType,
    tokenEndpointAuthMethod: request.tokenEndpointAuthMethod,
    secretHash: secret?.hash ?? null,
    redirectUris: request.redirectUris,
    postLogoutRedirectUris: request.postLogoutRedirectUris,
    grantTypes: request.grantTypes,
    scopes: request.scopes,
    automaticConsent: false,
    serviceUserId: null,
    locationHint: null,
    registrationTokenHash: await sha256(registrationToken),
    idTokenSignedResponseAlg: request.idTokenSignedResponseAlg,
    metadata: request.metadata,
    createdBy: null,
    revokedBefore: 0,
    lastUsedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await insertClient(db, row, {
    kind: "client.registered",
    clientId: row.id,
    ip,
    detail: { client_name: row.name, redirect_uris: row.redirectUris, auth_method: row.tokenEndpointAuthMethod },
  });
  return {
    ...registeredClientMetadata(settings, row),
    ...(secret ? { client_secret: secret.secret, client_secret_expires_at: 0 } : {}),
    registration_access_token: registrationToken,
  };
}

/**
 * RFC 7592 §2.1: the metadata of the client this registration access token belongs to. A wrong
 * token, or a client that no longer exists, is 401 invalid_token (RFC 6750 §3.1).
 */
export async function readRegisteredClient(
  db: Db,
  settings: Settings,
  clientId: string,
  token: string | undefined,
): Promise<Record<string, unknown>> {
  const client =
    token && clientId.length <= MAX_REGISTERED_CLIENT_ID_LENGTH ? await getClient(db, clientId) : undefined;
  const matches =
    !!token && !!client?.registrationTokenHash && timingSafeEqual(await sha256(token), client.registrationTokenHash);
  if (!client || !matches) {
    throw new OAuthError("invalid_token", "the registration access token is not valid for this client", {
      bearer: true,
    });
  }
  return registeredClientMetadata(settings, client);
}
