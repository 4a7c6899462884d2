/** The audit log: security events that team admins can read. */
import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "./db";
import { auditEvents } from "./schema";

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
  | "keys.rotated";

export interface AuditEvent {
  kind: AuditKind;
  teamId?: string | null;
  actorUserId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Db, event: AuditEvent): Promise<void> {
  await db.insert(auditEvents).values({
    kind: event.kind,
    teamId: event.teamId ?? null,
    actorUserId: event.actorUserId ?? null,
    clientId: event.clientId ?? null,
    ip: event.ip ?? null,
    detail: event.detail ?? {},
  });
}

export type AuditRow = typeof auditEvents.$inferSelect;

/** A team's events, newest first; `before` is the id to page from. */
export function listAudit(
  db: Db,
  teamId: string,
  options: { kind?: string; before?: number; limit?: number } = {},
): Promise<AuditRow[]> {
  const conditions = [eq(auditEvents.teamId, teamId)];
  if (options.kind) conditions.push(eq(auditEvents.kind, options.kind));
  if (options.before) conditions.push(lt(auditEvents.id, options.before));
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.id))
    .limit(Math.min(options.limit ?? 50, 200))
    .all();
}
