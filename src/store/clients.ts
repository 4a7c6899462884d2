/**
 * OAuth clients (D1 `clients`), and the isolate cache that keeps client authentication off D1 on
 * the token endpoint's hot path.
 */
import { asc, eq } from "drizzle-orm";
import { type AuditEvent, auditInsert } from "./audit";
import type { Db } from "./db";
import { clients, memberships, users } from "./schema";

export type ClientRow = typeof clients.$inferSelect;
export type NewClientRow = typeof clients.$inferInsert;
/** What an admin may change on an app, plus what the use cases maintain (secret, revocation). */
export type ClientChanges = Partial<
  Pick<
    ClientRow,
    | "name"
    | "redirectUris"
    | "postLogoutRedirectUris"
    | "grantTypes"
    | "scopes"
    | "automaticConsent"
    | "idTokenSignedResponseAlg"
    | "secretHash"
    | "revokedBefore"
    | "teamId"
    | "metadata"
  >
>;

export function getClient(db: Db, id: string): Promise<ClientRow | undefined> {
  return db.select().from(clients).where(eq(clients.id, id)).get();
}

// ---- isolate cache -------------------------------------------------------------------------------

const MAX_CACHED = 1000;
const cache = new Map<string, { row: ClientRow; until: number }>();

/**
 * The client record, served from this isolate's memory for at most `clientCacheSeconds` (0 = off).
 * Only hits are cached, so a client registered a moment ago is found at once. A change made in this
 * isolate calls `forgetClient`; other isolates see it when their entry expires.
 */
export async function getClientCached(
  db: Db,
  settings: { clientCacheSeconds: number },
  id: string,
): Promise<ClientRow | undefined> {
  const now = Date.now();
  const hit = cache.get(id);
  if (hit && hit.until > now) return hit.row;
  const row = await getClient(db, id);
  if (hit) cache.delete(id);
  if (row && settings.clientCacheSeconds > 0) {
    // Map keeps insertion order: dropping the first key evicts the oldest entry.
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(id, { row, until: now + settings.clientCacheSeconds * 1000 });
  }
  return row;
}

/** Drops the cached record in this isolate; call it after every change to a client. */
export function forgetClient(id: string): void {
  cache.delete(id);
}

// ---- writes --------------------------------------------------------------------------------------

/**
 * A new client and the audit event that records it (every surface that creates one passes it): one
 * D1 batch, so one round trip, both or neither. Test fixtures insert clients without an event.
 */
export async function insertClient(db: Db, row: NewClientRow, event?: AuditEvent): Promise<void> {
  const insert = db.insert(clients).values(row);
  await (event ? db.batch([insert, auditInsert(db, event)]) : insert);
}

/**
 * A client_credentials app and the service user that acts for it, in one D1 batch (a transaction):
 * the user (kind "service"), its membership in the app's team (role and on-call role "service"),
 * the client pointing at it, and the audit event that records it.
 */
export async function insertClientWithServiceUser(
  db: Db,
  row: NewClientRow & { teamId: string; serviceUserId: string },
  serviceUserName: string,
  event?: AuditEvent,
): Promise<void> {
  await db.batch([
    db.insert(users).values({ id: row.serviceUserId, kind: "service", email: null, name: serviceUserName }),
    db
      .insert(memberships)
      .values({ userId: row.serviceUserId, teamId: row.teamId, role: "service", onCallRole: "service" }),
    db.insert(clients).values(row),
    ...(event ? [auditInsert(db, event)] : []),
  ]);
}

export async function updateClient(db: Db, id: string, changes: ClientChanges): Promise<ClientRow | undefined> {
  const row = await db
    .update(clients)
    .set({ ...changes, updatedAt: Date.now() })
    .where(eq(clients.id, id))
    .returning()
    .get();
  forgetClient(id);
  return row;
}

/** Deletes the client (its consents go with it, by foreign key) and its service user, if any. */
export async function deleteClient(db: Db, client: Pick<ClientRow, "id" | "serviceUserId">): Promise<void> {
  const deleteRow = db.delete(clients).where(eq(clients.id, client.id));
  if (client.serviceUserId) {
    await db.batch([deleteRow, db.delete(users).where(eq(users.id, client.serviceUserId))]);
  } else {
    await deleteRow;
  }
  forgetClient(client.id);
}

/**
 * Every token of the client issued before `now` is dead (access tokens are checked against it);
 * returns the client's service user, whose own tokens the caller revokes.
 */
export async function markClientTokensRevoked(db: Db, id: string, now: number): Promise<string | null> {
  const row = await db
    .update(clients)
    .set({ revokedBefore: now })
    .where(eq(clients.id, id))
    .returning({ serviceUserId: clients.serviceUserId })
    .get();
  forgetClient(id);
  return row?.serviceUserId ?? null;
}

/** A Client ID Metadata Document's client as last fetched. */
export type MetadataDocumentFields = Pick<
  NewClientRow,
  | "name"
  | "applicationType"
  | "tokenEndpointAuthMethod"
  | "redirectUris"
  | "grantTypes"
  | "scopes"
  | "idTokenSignedResponseAlg"
  | "metadata"
  | "updatedAt"
>;

/**
 * Inserts or refreshes a metadata-document client (id = the document URL). Team binding, revocation
 * time and creation time of an existing row are kept; a row of another origin is never overwritten
 * (then undefined).
 */
export async function upsertMetadataDocumentClient(
  db: Db,
  id: string,
  fields: MetadataDocumentFields,
): Promise<ClientRow | undefined> {
  const row = await db
    .insert(clients)
    .values({ id, teamId: null, origin: "metadata_document", secretHash: null, ...fields, createdAt: Date.now() })
    .onConflictDoUpdate({ target: clients.id, set: fields, setWhere: eq(clients.origin, "metadata_document") })
    .returning()
    .get();
  forgetClient(id);
  return row;
}

/** A client's "last used" stamp (throttled by the caller). */
export async function touchClient(db: Db, id: string, at: number): Promise<void> {
  await db.update(clients).set({ lastUsedAt: at }).where(eq(clients.id, id));
}

export function listClientsOfTeam(db: Db, teamId: string): Promise<ClientRow[]> {
  return db.select().from(clients).where(eq(clients.teamId, teamId)).orderBy(asc(clients.createdAt)).all();
}
