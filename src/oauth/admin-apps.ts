/**
 * Use cases of app administration (the JSON admin API and the admin pages): create, edit, reset the
 * secret, revoke every token, delete, and read the team's audit log. Every change is audited. No
 * HTTP here: the caller says who is acting (`AdminActor`).
 */
import { type Env, settingsOf } from "../config";
import { isLocationHint, LOCATION_HINTS, type LocationHint, SERVICE_USER_ID_PREFIX } from "../durable/stub";
import { MAX_REGISTERED_CLIENT_ID_LENGTH } from "../limits";
import { type AuditEvent, type AuditRow, listAudit, recordAudit } from "../store/audit";
import {
  type ClientChanges,
  type ClientRow,
  deleteClient,
  forgetClient,
  getClient,
  insertClient,
  insertClientWithServiceUser,
  listClientsOfTeam,
  updateClient,
} from "../store/clients";
import { dbOf } from "../store/db";
import { getTeam } from "../store/users";
import { randomToken } from "../tokens/secrets";
import { type AppChange, type AppType, appChangeRefusal } from "./app-policy";
import { newClientId, newClientSecret } from "./client-auth";
import {
  adminAppScopes,
  allLoopback,
  cleanClientName,
  idTokenSigningAlg,
  keyMetadata,
  personalGrantTypes,
  type TokenEndpointAuthMethod,
  validatePostLogoutRedirectUris,
  validateRedirectUris,
} from "./client-metadata";
import { OAuthError } from "./errors";
import { revokeAllTokensOfClient } from "./grants/revocation";
import { publishHolder } from "./holder";
import { formatScope } from "./scopes";
import { DEFAULT_ID_TOKEN_SIGNING_ALG } from "./signing-algorithms";

/**
 * Who is acting: the operator (ADMIN_API_TOKEN, every team) or a person who is admin of `teams`.
 * `userId` is null for the operator and goes into the audit log as the actor.
 */
export type AdminActor = { userId: null; teams: "all" } | { userId: string; teams: readonly string[] };

export type { AppType } from "./app-policy";

export function appType(client: ClientRow): AppType {
  if (client.grantTypes.includes("client_credentials")) return "client_credentials";
  return client.tokenEndpointAuthMethod === "none" ? "public" : "confidential";
}

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

/** An app as the admin API shows it: everything but its secret and registration token hashes. */
export function appView(client: ClientRow): Record<string, unknown> {
  return {
    client_id: client.id,
    name: client.name,
    type: appType(client),
    origin: client.origin,
    team_id: client.teamId,
    application_type: client.applicationType,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    // private_key_jwt (RFC 7523): the public keys, by value or by reference; DPoP (RFC 9449 §5.2).
    ...(client.metadata.jwks !== undefined ? { jwks: client.metadata.jwks } : {}),
    ...(client.metadata.jwks_uri !== undefined ? { jwks_uri: client.metadata.jwks_uri } : {}),
    ...(client.metadata.dpop_bound_access_tokens === true ? { dpop_bound_access_tokens: true } : {}),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: client.grantTypes,
    scope: formatScope(client.scopes),
    automatic_consent: client.automaticConsent,
    // OIDC Dynamic Client Registration §2; an app for no person gets no ID token.
    ...(appType(client) === "client_credentials"
      ? {}
      : { id_token_signed_response_alg: client.idTokenSignedResponseAlg }),
    service_user_id: client.serviceUserId,
    // Where its token checks run (null: near whoever created it); only an app for no person has one.
    ...(appType(client) === "client_credentials" ? { location_hint: client.locationHint } : {}),
    created_by: client.createdBy,
    created_at: iso(client.createdAt),
    updated_at: iso(client.updatedAt),
    last_used_at: iso(client.lastUsedAt),
    tokens_revoked_at: iso(client.revokedBefore),
  };
}

/**
 * The team an action on the team as a whole (create, list, audit) applies to: the one the request
 * names, which the actor must administer; or, for a person who administers exactly one team, that.
 */
export async function actingTeam(env: Env, actor: AdminActor, requested: unknown): Promise<string> {
  if (requested !== undefined && (typeof requested !== "string" || requested.length > 200)) {
    throw new OAuthError("invalid_request", "team_id must be a string");
  }
  if (actor.teams === "all") {
    if (!requested) throw new OAuthError("invalid_request", "team_id is required with the admin API token");
    if (!(await getTeam(dbOf(env.DB), requested))) throw new OAuthError("not_found", "no such team");
    return requested;
  }
  if (requested) {
    if (!actor.teams.includes(requested))
      throw new OAuthError("access_denied", "you are not an admin of that team", { status: 403 });
    return requested;
  }
  if (actor.teams.length !== 1) throw new OAuthError("invalid_request", "you administer several teams: name team_id");
  return actor.teams[0] as string;
}

/** The app, if the actor may manage it; otherwise 404 (never reveal another team's apps). */
export async function findApp(env: Env, actor: AdminActor, clientId: string): Promise<ClientRow> {
  const client =
    clientId.length <= MAX_REGISTERED_CLIENT_ID_LENGTH ? await getClient(dbOf(env.DB), clientId) : undefined;
  const allowed = client && (actor.teams === "all" || (client.teamId !== null && actor.teams.includes(client.teamId)));
  if (!client || !allowed) throw new OAuthError("not_found", "no such app");
  return client;
}

/** findApp, then the ownership rule of app-policy.ts for `change` (403 when the team may not). */
async function findAppFor(env: Env, actor: AdminActor, clientId: string, change: AppChange): Promise<ClientRow> {
  const client = await findApp(env, actor, clientId);
  const refusal = appChangeRefusal(
    { origin: client.origin, type: appType(client), authMethod: client.tokenEndpointAuthMethod },
    change,
  );
  if (refusal?.reason === "registrant_owned")
    throw new OAuthError("access_denied", refusal.description, { status: 403 });
  if (refusal) throw new OAuthError("invalid_request", refusal.description);
  return client;
}

function refuseUnknownFields(input: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(input).find((k) => !allowed.includes(k));
  if (unknown !== undefined)
    throw new OAuthError("invalid_request", `unknown field ${JSON.stringify(unknown.slice(0, 40))}`);
}

const PERSONAL_FIELDS = ["redirect_uris", "post_logout_redirect_uris", "grant_types", "id_token_signed_response_alg"];

/** A client_credentials app acts for no person: nothing that redirects a person, no ID token, no other grant. */
function refusePersonalFields(input: Record<string, unknown>): void {
  if (PERSONAL_FIELDS.some((field) => input[field] !== undefined)) {
    throw new OAuthError("invalid_client_metadata", `a client_credentials app has no ${PERSONAL_FIELDS.join(", ")}`);
  }
}

function booleanField(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new OAuthError("invalid_client_metadata", `${field} must be true or false`);
  return value;
}

function requiredName(value: unknown): string {
  const name = cleanClientName(value);
  if (!name) throw new OAuthError("invalid_client_metadata", "name is required");
  return name;
}

const CREATE_FIELDS = [
  "name",
  "type",
  "redirect_uris",
  "post_logout_redirect_uris",
  "grant_types",
  "scope",
  "automatic_consent",
  "team_id",
  "token_endpoint_auth_method",
  "jwks",
  "jwks_uri",
  "dpop_bound_access_tokens",
  "id_token_signed_response_alg",
  "location_hint",
];

/**
 * Where a client_credentials app's token checks are to run: its service user's objects are created
 * there (docs/edge-latency.md). Absent: near whoever creates the app. An app for people has none:
 * each person's tokens are checked by their own object, created near them by their sign-in.
 */
function locationHintOf(value: unknown, clientCredentials: boolean): LocationHint | null {
  if (value === undefined || value === null) return null;
  if (!clientCredentials) {
    throw new OAuthError(
      "invalid_client_metadata",
      "location_hint is for client_credentials apps: a person's tokens are checked near where they sign in",
    );
  }
  if (!isLocationHint(value)) {
    throw new OAuthError(
      "invalid_client_metadata",
      `location_hint must be one of ${Object.keys(LOCATION_HINTS).join(", ")}`,
    );
  }
  return value;
}

/**
 * Creates an app in `teamId`. A client_credentials app (the only way to get that grant) is
 * confidential, has no redirect URIs, and gets its own service user in the team whose permissions
 * are exactly the app's scopes. The secret is in the result once and stored only as a hash.
 */
export async function createApp(
  env: Env,
  actor: AdminActor,
  teamId: string,
  input: Record<string, unknown>,
): Promise<{ app: Record<string, unknown>; clientSecret?: string }> {
  refuseUnknownFields(input, CREATE_FIELDS);
  const name = requiredName(input.name);
  const type = input.type;
  if (type !== "public" && type !== "confidential" && type !== "client_credentials") {
    throw new OAuthError("invalid_client_metadata", "type must be public, confidential or client_credentials");
  }
  const clientCredentials = type === "client_credentials";
  const method = input.token_endpoint_auth_method ?? (type === "public" ? "none" : "client_secret_basic");
  const allowedMethods =
    type === "public" ? ["none"] : ["client_secret_basic", "client_secret_post", "private_key_jwt"];
  if (typeof method !== "string" || !allowedMethods.includes(method)) {
    throw new OAuthError("invalid_client_metadata", `a ${type} app authenticates with ${allowedMethods.join(" or ")}`);
  }
  if (clientCredentials) refusePersonalFields(input);
  const grantTypes = clientCredentials
    ? ["client_credentials"]
    : personalGrantTypes(input.grant_types, ["authorization_code", "refresh_token"]);
  // Only an app that redirects needs redirect URIs (a device-only app, RFC 8628, has none).
  const redirectUris = validateRedirectUris(input.redirect_uris, {
    required: grantTypes.includes("authorization_code"),
  });
  const locationHint = locationHintOf(input.location_hint, clientCredentials);
  const automaticConsent = booleanField(input.automatic_consent, "automatic_consent") ?? false;
  if (clientCredentials && automaticConsent) {
    throw new OAuthError("invalid_client_metadata", "a client_credentials app has no consent screen");
  }
  // private_key_jwt apps registered public keys instead of getting a secret (RFC 7523 §2.2).
  const metadata = keyMetadata(input, method as TokenEndpointAuthMethod, {
    allowLoopback: settingsOf(env).allowLoopbackMetadataDocuments,
  });
  const secret = method.startsWith("client_secret_") ? await newClientSecret() : undefined;
  const now = Date.now();
  const row: ClientRow = {
    id: newClientId(),
    teamId,
    origin: "admin",
    name,
    applicationType: allLoopback(redirectUris) ? "native" : "web",
    tokenEndpointAuthMethod: method as ClientRow["tokenEndpointAuthMethod"],
    secretHash: secret?.hash ?? null,
    redirectUris,
    postLogoutRedirectUris: validatePostLogoutRedirectUris(input.post_logout_redirect_uris),
    grantTypes,
    scopes: adminAppScopes(input.scope, clientCredentials),
    automaticConsent,
    serviceUserId: clientCredentials ? `${SERVICE_USER_ID_PREFIX}${randomToken(12)}` : null,
    locationHint,
    registrationTokenHash: null,
    idTokenSignedResponseAlg: idTokenSigningAlg(input.id_token_signed_response_alg) ?? DEFAULT_ID_TOKEN_SIGNING_ALG,
    metadata,
    createdBy: actor.userId,
    revokedBefore: 0,
    lastUsedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const db = dbOf(env.DB);
  const created = auditEvent(actor, "client.created", row, {
    name,
    type,
    scope: formatScope(row.scopes),
    ...(locationHint ? { location_hint: locationHint } : {}),
  });
  if (row.serviceUserId) {
    const withUser = { ...row, teamId, serviceUserId: row.serviceUserId };
    await insertClientWithServiceUser(db, withUser, `${name} (service)`, created);
    // Its objects answer introspection of its tokens: they must know the service membership first.
    // This is their first call, so it places them.
    await publishHolder(env, row.serviceUserId, { locationHint });
  } else {
    await insertClient(db, row, created);
  }
  return { app: appView(row), clientSecret: secret?.secret };
}

export function listApps(env: Env, teamId: string): Promise<Record<string, unknown>[]> {
  return listClientsOfTeam(dbOf(env.DB), teamId).then((rows) => rows.map(appView));
}

const UPDATE_FIELDS = [
  "name",
  "redirect_uris",
  "post_logout_redirect_uris",
  "grant_types",
  "scope",
  "automatic_consent",
  "jwks",
  "jwks_uri",
  "dpop_bound_access_tokens",
  "id_token_signed_response_alg",
];

/**
 * What only creation sets: the team, the kind and how it authenticates (its credentials are made
 * for that), and where a service app's objects live (they exist from its creation on). A change is
 * a new app.
 */
function refuseFixedFields(input: Record<string, unknown>): void {
  const fixed = CREATE_FIELDS.find((field) => !UPDATE_FIELDS.includes(field) && input[field] !== undefined);
  if (fixed !== undefined) {
    throw new OAuthError("invalid_request", `${fixed} is fixed when the app is created: make a new app to change it`);
  }
}

/**
 * The app's metadata with new keys (a jwks replaces a jwks_uri and the other way round) or a new
 * DPoP preference, validated by the same rule as at creation.
 */
function changedKeyMetadata(env: Env, client: ClientRow, input: Record<string, unknown>): Record<string, unknown> {
  const { jwks, jwks_uri, dpop_bound_access_tokens, ...rest } = client.metadata;
  const newKeys = input.jwks !== undefined || input.jwks_uri !== undefined;
  const merged = {
    jwks: newKeys ? input.jwks : jwks,
    jwks_uri: newKeys ? input.jwks_uri : jwks_uri,
    dpop_bound_access_tokens: input.dpop_bound_access_tokens ?? dpop_bound_access_tokens,
  };
  const options = { allowLoopback: settingsOf(env).allowLoopbackMetadataDocuments };
  return { ...rest, ...keyMetadata(merged, client.tokenEndpointAuthMethod, options) };
}

/**
 * Edits name, redirect URIs, post-logout redirect URIs, grant types and the ID token's signature (of
 * an app for people), scopes, automatic consent, keys and the DPoP preference; other fields are
 * refused.
 */
export async function updateApp(
  env: Env,
  actor: AdminActor,
  clientId: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const client = await findAppFor(env, actor, clientId, "edit");
  refuseFixedFields(input);
  refuseUnknownFields(input, UPDATE_FIELDS);
  const clientCredentials = appType(client) === "client_credentials";
  const changes: ClientChanges = {};
  if (input.name !== undefined) changes.name = requiredName(input.name);
  if (clientCredentials) refusePersonalFields(input);
  if (input.grant_types !== undefined) changes.grantTypes = personalGrantTypes(input.grant_types, []);
  const redirects = (changes.grantTypes ?? client.grantTypes).includes("authorization_code");
  if (input.redirect_uris !== undefined || (redirects && client.redirectUris.length === 0)) {
    changes.redirectUris = validateRedirectUris(input.redirect_uris ?? client.redirectUris, { required: redirects });
  }
  if (input.post_logout_redirect_uris !== undefined) {
    changes.postLogoutRedirectUris = validatePostLogoutRedirectUris(input.post_logout_redirect_uris);
  }
  if (input.scope !== undefined) changes.scopes = adminAppScopes(input.scope, clientCredentials);
  const idTokenAlg = idTokenSigningAlg(input.id_token_signed_response_alg);
  if (idTokenAlg !== undefined) changes.idTokenSignedResponseAlg = idTokenAlg;
  const automaticConsent = booleanField(input.automatic_consent, "automatic_consent");
  if (automaticConsent !== undefined) {
    if (clientCredentials && automaticConsent) {
      throw new OAuthError("invalid_client_metadata", "a client_credentials app has no consent screen");
    }
    changes.automaticConsent = automaticConsent;
  }
  if (input.jwks !== undefined || input.jwks_uri !== undefined || input.dpop_bound_access_tokens !== undefined) {
    changes.metadata = changedKeyMetadata(env, client, input);
  }
  if (Object.keys(changes).length === 0) return appView(client);
  const updated = await updateClient(dbOf(env.DB), client.id, changes);
  if (!updated) throw new OAuthError("not_found", "no such app");
  await audit(env, actor, "client.updated", updated, { fields: Object.keys(input) });
  return appView(updated);
}

/** A new secret, shown once; the old one stops working at once (in other isolates within the cache TTL). */
export async function resetAppSecret(
  env: Env,
  actor: AdminActor,
  clientId: string,
): Promise<{ client_id: string; client_secret: string; client_secret_expires_at: 0 }> {
  const client = await findAppFor(env, actor, clientId, "reset_secret");
  const secret = await newClientSecret();
  await updateClient(dbOf(env.DB), client.id, { secretHash: secret.hash });
  await audit(env, actor, "client.secret_reset", client, {});
  return { client_id: client.id, client_secret: secret.secret, client_secret_expires_at: 0 };
}

/** Every token of the app dies now: refresh token families in the users' objects and access tokens. */
export async function revokeAppTokens(env: Env, actor: AdminActor, clientId: string): Promise<Record<string, unknown>> {
  const client = await findAppFor(env, actor, clientId, "revoke_tokens");
  // It also moves clients.revoked_before, which is what kills access tokens already handed out.
  await revokeAllTokensOfClient(env, client.id);
  forgetClient(client.id);
  await audit(env, actor, "client.tokens_revoked", client, {});
  return appView((await getClient(dbOf(env.DB), client.id)) ?? client);
}

/** Deletes the app after revoking everything it holds; its consents and service user go with it. */
export async function deleteApp(env: Env, actor: AdminActor, clientId: string): Promise<void> {
  const client = await findAppFor(env, actor, clientId, "delete");
  await revokeAllTokensOfClient(env, client.id);
  await deleteClient(dbOf(env.DB), client);
  if (client.serviceUserId) await publishHolder(env, client.serviceUserId);
  await audit(env, actor, "client.deleted", client, { name: client.name });
}

/** The team's audit events, newest first, `limit` at a time; page with `before` = the last id seen. */
export async function teamAudit(
  env: Env,
  teamId: string,
  query: { before?: string; limit?: string; kind?: string; client_id?: string; actor_user_id?: string },
): Promise<{ events: Record<string, unknown>[]; next_before: number | null }> {
  const number = (value: string | undefined, field: string) => {
    if (value === undefined) return undefined;
    if (!/^\d{1,12}$/.test(value)) throw new OAuthError("invalid_request", `${field} must be a positive whole number`);
    return Number(value);
  };
  const limit = Math.max(1, Math.min(number(query.limit, "limit") ?? 50, 200));
  const rows: AuditRow[] = await listAudit(dbOf(env.DB), teamId, {
    before: number(query.before, "before"),
    limit,
    kind: query.kind?.slice(0, 60),
    clientId: query.client_id?.slice(0, 2048),
    actorUserId: query.actor_user_id?.slice(0, 200),
  });
  return {
    events: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      actor_user_id: r.actorUserId,
      client_id: r.clientId,
      ip: r.ip,
      detail: r.detail,
      created_at: iso(r.createdAt),
    })),
    next_before: rows.length === limit ? (rows.at(-1)?.id ?? null) : null,
  };
}

type AppAuditKind =
  | "client.created"
  | "client.updated"
  | "client.secret_reset"
  | "client.tokens_revoked"
  | "client.deleted";

/** The audit event of an admin's change to an app (the admin API token has no user: `via`). */
function auditEvent(
  actor: AdminActor,
  kind: AppAuditKind,
  client: Pick<ClientRow, "id" | "teamId">,
  detail: Record<string, unknown>,
): AuditEvent {
  return {
    kind,
    teamId: client.teamId,
    actorUserId: actor.userId,
    clientId: client.id,
    detail: actor.userId === null ? { ...detail, via: "admin_api_token" } : detail,
  };
}

function audit(
  env: Env,
  actor: AdminActor,
  kind: AppAuditKind,
  client: Pick<ClientRow, "id" | "teamId">,
  detail: Record<string, unknown>,
): Promise<void> {
  return recordAudit(dbOf(env.DB), auditEvent(actor, kind, client, detail));
}
