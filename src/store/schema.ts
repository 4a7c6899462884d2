/**
 * D1 schema (drizzle). docs/storage.md describes every table; migrations/ is generated from this
 * file by `npm run db:generate`. Times are Unix milliseconds unless a column says otherwise.
 */
import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const now = sql`(unixepoch('subsec') * 1000)`;

/** A required reference to the row that owns this one: deleting the owner deletes it too. */
const ownedBy = (name: string, owner: () => AnySQLiteColumn) =>
  text(name).notNull().references(owner, { onDelete: "cascade" });

export const teams = sqliteTable(
  "teams",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Upstream issuer + organization id (Google `hd`, Entra `tid`); null for personal/demo teams. */
    upstreamIssuer: text("upstream_issuer"),
    upstreamOrgId: text("upstream_org_id"),
    primaryDomain: text("primary_domain"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("teams_upstream_org").on(t.upstreamIssuer, t.upstreamOrgId)],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["human", "service"] }).notNull(),
    /** Lower-cased; null for service users. */
    email: text("email"),
    name: text("name"),
    /** Tokens issued before this instant are dead ("sign out everywhere"). */
    revokedBefore: integer("revoked_before").notNull().default(0),
    /**
     * Bumped in the same D1 transaction as every change to the user's memberships, email or name, so
     * the copy in the user's UserGrants object is replaced only by a newer one (docs/architecture.md).
     */
    membershipVersion: integer("membership_version").notNull().default(0),
    lastSignInAt: integer("last_sign_in_at"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("users_email").on(t.email)],
);

export const memberships = sqliteTable(
  "memberships",
  {
    userId: ownedBy("user_id", () => users.id),
    teamId: ownedBy("team_id", () => teams.id),
    /** admin | member | observer | none; `service` for an app's service user. */
    role: text("role").notNull(),
    onCallRole: text("on_call_role").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.userId, t.teamId] }), index("memberships_team").on(t.teamId)],
);

/**
 * An invitation to join a team: the person with this email joins with these roles at their next
 * sign-in (upstream or dev), until `expires_at` (7 days). Deleted when used or withdrawn.
 */
export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    teamId: ownedBy("team_id", () => teams.id),
    /** Lower-cased. */
    email: text("email").notNull(),
    role: text("role").notNull(),
    onCallRole: text("on_call_role").notNull(),
    invitedBy: text("invited_by"),
    createdAt: integer("created_at").notNull().default(now),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [uniqueIndex("invitations_team_email").on(t.teamId, t.email), index("invitations_email").on(t.email)],
);

export const clients = sqliteTable(
  "clients",
  {
    id: text("id").primaryKey(),
    /** Null until the first user authorizes a self-registered client; then fixed. */
    teamId: text("team_id").references(() => teams.id, { onDelete: "cascade" }),
    /** registered (RFC 7591), admin (created by a team admin), metadata_document (CIMD URL). */
    origin: text("origin", { enum: ["registered", "admin", "metadata_document"] }).notNull(),
    name: text("name").notNull(),
    applicationType: text("application_type", { enum: ["web", "native"] }).notNull(),
    tokenEndpointAuthMethod: text("token_endpoint_auth_method", {
      enum: ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
    }).notNull(),
    /** SHA-256 of the secret (secrets are 256-bit random, so a fast hash is enough); never the secret. */
    secretHash: text("secret_hash"),
    redirectUris: text("redirect_uris", { mode: "json" }).$type<string[]>().notNull(),
    grantTypes: text("grant_types", { mode: "json" }).$type<string[]>().notNull(),
    /** OpenID Connect RP-Initiated Logout 1.0 §3.1: where the app may send people after sign-out (exact match). */
    postLogoutRedirectUris: text("post_logout_redirect_uris", { mode: "json" }).$type<string[]>().notNull().default([]),
    /** Registered scopes, meta scopes already expanded. */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    automaticConsent: integer("automatic_consent", { mode: "boolean" }).notNull().default(false),
    /** client_credentials apps: the service user whose permissions are exactly `scopes`. */
    serviceUserId: text("service_user_id"),
    /**
     * client_credentials apps: the Durable Object location hint their service user's objects were
     * created with (durable/stub.ts); null: near whoever created the app. Fixed at creation.
     */
    locationHint: text("location_hint"),
    /** RFC 7592: SHA-256 of the registration access token. */
    registrationTokenHash: text("registration_token_hash"),
    idTokenSignedResponseAlg: text("id_token_signed_response_alg").notNull().default("RS256"),
    /** Other RFC 7591 metadata kept for display and RFC 7592 reads (client_uri, logo_uri, contacts…). */
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdBy: text("created_by"),
    /** Tokens of this client issued before this instant are dead ("revoke every token of an app"). */
    revokedBefore: integer("revoked_before").notNull().default(0),
    lastUsedAt: integer("last_used_at"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [index("clients_team").on(t.teamId)],
);

export const consents = sqliteTable(
  "consents",
  {
    userId: ownedBy("user_id", () => users.id),
    clientId: ownedBy("client_id", () => clients.id),
    /** Accumulated (incremental authorization): the union of everything the user approved. */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.userId, t.clientId] }), index("consents_client").on(t.clientId)],
);

/**
 * Index of token families (one authorization: its code, then its chain of refresh tokens). The
 * authoritative state lives in the user's UserGrants Durable Object; this row exists to list and
 * bulk-revoke families by client or user.
 */
export const tokenFamilies = sqliteTable(
  "token_families",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    clientId: text("client_id").notNull(),
    teamId: text("team_id").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    resource: text("resource"),
    createdAt: integer("created_at").notNull().default(now),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("token_families_user").on(t.userId), index("token_families_client").on(t.clientId)],
);

export const signingKeys = sqliteTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    alg: text("alg", { enum: ["ES256", "RS256"] }).notNull(),
    status: text("status", { enum: ["current", "retired"] }).notNull(),
    publicJwk: text("public_jwk", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** AES-256-GCM under a key derived from KEY_ENCRYPTION_SECRET: `v1.<iv>.<ciphertext>`. */
    privateJwkEncrypted: text("private_jwk_encrypted").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Retired keys stay in the JWKS until every token they signed has expired. */
    publishUntil: integer("publish_until"),
  },
  (t) => [index("signing_keys_alg_status").on(t.alg, t.status)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the cookie value; the cookie itself is never stored. */
    idHash: text("id_hash").primaryKey(),
    userId: ownedBy("user_id", () => users.id),
    authTime: integer("auth_time").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("sessions_user").on(t.userId)],
);

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    teamId: text("team_id"),
    kind: text("kind").notNull(),
    actorUserId: text("actor_user_id"),
    clientId: text("client_id"),
    ip: text("ip"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: integer("created_at").notNull().default(now),
    /**
     * Made by the writer when the event happens, so an event written again (a batch whose outcome
     * was unknown, retried row by row) is still one row. Rows older than this column have none.
     */
    eventId: text("event_id"),
  },
  (t) => [
    index("audit_team_time").on(t.teamId, t.createdAt),
    index("audit_kind").on(t.kind),
    uniqueIndex("audit_event_id").on(t.eventId),
  ],
);
