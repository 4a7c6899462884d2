/** The audit log: security events that team admins can read. */
import { and, type Column, desc, eq, gte, inArray, isNotNull, lt, sql } from "drizzle-orm";
import { type Db, insertInChunks, writtenLater } from "./db";
import { auditEvents, clients, users } from "./schema";

export type AuditKind =
  | "client.registered"
  | "client.created"
  | "client.updated"
  | "client.secret_reset"
  | "client.tokens_revoked"
  | "client.deleted"
  | "consent.granted"
  | "consent.denied"
  | "consent.revoked"
  | "device.approved"
  | "device.denied"
  | "signin"
  | "signout"
  | "token.revoked"
  | "refresh.reuse_detected"
  | "code.replay_detected"
  | "keys.rotated"
  | "member.role_changed"
  | "member.removed"
  | "member.invited"
  | "member.invitation_withdrawn"
  | "member.joined";

export interface AuditEvent {
  kind: AuditKind;
  teamId?: string | null;
  actorUserId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

type AuditRowInsert = typeof auditEvents.$inferInsert;

/** An event as a row, stamped now with the id that keeps a retried write from adding it twice. */
function auditRow(event: AuditEvent): AuditRowInsert {
  return {
    eventId: crypto.randomUUID(),
    kind: event.kind,
    teamId: event.teamId ?? null,
    actorUserId: event.actorUserId ?? null,
    clientId: event.clientId ?? null,
    ip: event.ip ?? null,
    detail: event.detail ?? {},
    createdAt: Date.now(),
  };
}

/** Idempotent by event id: a row already written is left as it is. */
function insertAuditRows(db: Db, rows: AuditRowInsert[]) {
  return db.insert(auditEvents).values(rows).onConflictDoNothing({ target: auditEvents.eventId });
}

/** The insert of one event, for a caller that batches it with the change it records. */
export function auditInsert(db: Db, event: AuditEvent) {
  return insertAuditRows(db, [auditRow(event)]);
}

/** Records an event before the caller goes on. */
export async function recordAudit(db: Db, event: AuditEvent): Promise<void> {
  await auditInsert(db, event);
}

const auditLater = writtenLater((db: Db, rows: AuditRowInsert[]) =>
  insertInChunks(db, auditEvents, rows, (chunk) => insertAuditRows(db, chunk)),
);

/**
 * Records an event after the response (the token path's revocations and reuse detections): pass
 * the promise to waitUntil. The events of one isolate go to D1 together, within 100 ms; the event's
 * time is when it happened, its id orders it by when it was written.
 */
export function recordAuditLater(db: Db, event: AuditEvent): Promise<void> {
  return auditLater(db, auditRow(event));
}

export type AuditRow = typeof auditEvents.$inferSelect;

export interface AuditFilter {
  kind?: string;
  clientId?: string;
  actorUserId?: string;
}

/** A team's events, newest first; `before` is the id to page from. */
export function listAudit(
  db: Db,
  teamId: string,
  options: AuditFilter & { before?: number; limit?: number } = {},
): Promise<AuditRow[]> {
  const conditions = [eq(auditEvents.teamId, teamId)];
  if (options.kind) conditions.push(eq(auditEvents.kind, options.kind));
  if (options.clientId) conditions.push(eq(auditEvents.clientId, options.clientId));
  if (options.actorUserId) conditions.push(eq(auditEvents.actorUserId, options.actorUserId));
  if (options.before) conditions.push(lt(auditEvents.id, options.before));
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.id))
    .limit(Math.min(options.limit ?? 50, 200))
    .all();
}

/** UTC day of a millisecond timestamp column, as SQLite computes it: "2026-12-02". */
export const utcDay = (column: Column) => sql<string>`strftime('%Y-%m-%d', ${column} / 1000, 'unixepoch')`;

/** Events of the given kinds per UTC day since `since` (ms), for the audit page's chart. */
export function dailyAuditCounts(db: Db, teamId: string, kinds: readonly string[], since: number) {
  const day = utcDay(auditEvents.createdAt);
  return db
    .select({ day, kind: auditEvents.kind, count: sql<number>`count(*)` })
    .from(auditEvents)
    .where(
      and(eq(auditEvents.teamId, teamId), inArray(auditEvents.kind, [...kinds]), gte(auditEvents.createdAt, since)),
    )
    .groupBy(day, auditEvents.kind)
    .all();
}

/** The people and apps that appear in a team's log (the audit page's filters), at most 200 each. */
export async function auditFacets(db: Db, teamId: string) {
  const [people, apps] = await Promise.all([
    db
      .selectDistinct({ id: auditEvents.actorUserId, email: users.email, name: users.name })
      .from(auditEvents)
      .leftJoin(users, eq(users.id, auditEvents.actorUserId))
      .where(and(eq(auditEvents.teamId, teamId), isNotNull(auditEvents.actorUserId)))
      .limit(200)
      .all(),
    db
      .selectDistinct({ id: auditEvents.clientId, name: clients.name })
      .from(auditEvents)
      .leftJoin(clients, eq(clients.id, auditEvents.clientId))
      .where(and(eq(auditEvents.teamId, teamId), isNotNull(auditEvents.clientId)))
      .limit(200)
      .all(),
  ]);
  return {
    people: people.map((p) => ({ id: p.id as string, label: p.email ?? p.name ?? (p.id as string) })),
    apps: apps.map((a) => ({ id: a.id as string, name: a.name })),
  };
}
