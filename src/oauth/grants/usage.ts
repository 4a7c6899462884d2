/**
 * Bookkeeping kept off the critical path: the client's "last used" stamp (throttled per isolate so
 * load does not turn into D1 writes) and the audit trail of families revoked by reuse detection.
 */
import { recordAuditLater } from "../../store/audit";
import { touchClient } from "../../store/clients";
import { markFamiliesRevoked } from "../../store/token-families";
import type { GrantContext } from "./context";

const TOUCH_INTERVAL_MS = 60_000;
const lastTouched = new Map<string, number>();

function due(key: string, now: number): boolean {
  const last = lastTouched.get(key) ?? 0;
  if (now - last < TOUCH_INTERVAL_MS) return false;
  if (lastTouched.size > 10_000) lastTouched.clear();
  lastTouched.set(key, now);
  return true;
}

/** A client's "last used" in D1, at most once a minute per isolate (a family's is kept by UserGrants). */
export function touchUsage(ctx: GrantContext, clientId: string, now: number): void {
  if (due(clientId, now)) {
    ctx.defer(touchClient(ctx.db, clientId, now));
  }
}

export function reportRevokedFamily(
  ctx: GrantContext,
  userId: string,
  family: { familyId: string; clientId: string; teamId: string; reason: string },
  kind: "refresh.reuse_detected" | "code.replay_detected",
): void {
  const now = Date.now();
  ctx.defer(
    Promise.all([
      markFamiliesRevoked(ctx.db, [family.familyId], now),
      recordAuditLater(ctx.db, {
        kind,
        teamId: family.teamId,
        actorUserId: userId,
        clientId: family.clientId,
        ip: ctx.ip,
        detail: { family_id: family.familyId, reason: family.reason },
      }),
    ]),
  );
}
