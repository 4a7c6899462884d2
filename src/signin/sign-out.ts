/**
 * Signing out: of this browser (the caller ends its session), or everywhere — every browser session
 * of the person, in D1, at once. Both are audited. Neither touches tokens issued to apps: those
 * belong to the apps, and connected apps revokes them.
 */
import { recordAudit } from "../store/audit";
import type { Db } from "../store/db";
import { endAllSessionsOfUser } from "../store/sessions";
import { listMemberships } from "../store/users";

/**
 * Records a sign-out: `rp_initiated_logout` is an app's request (OpenID Connect RP-Initiated Logout
 * 1.0), recorded with that app.
 */
export async function recordSignOut(
  db: Db,
  userId: string,
  ip: string | null,
  scope: "this_browser" | "everywhere" | "rp_initiated_logout",
  clientId: string | null = null,
): Promise<void> {
  const [team] = await listMemberships(db, userId);
  await recordAudit(db, {
    kind: "signout",
    teamId: team?.teamId ?? null,
    actorUserId: userId,
    clientId,
    ip,
    ...(scope === "everywhere" ? { detail: { everywhere: true } } : {}),
    ...(scope === "rp_initiated_logout" ? { detail: { via: "rp_initiated_logout" } } : {}),
  });
}

/** Ends every browser session of the person (another browser's session no longer opens anything). */
export async function endEverySession(db: Db, userId: string, ip: string | null): Promise<void> {
  await endAllSessionsOfUser(db, userId, Date.now());
  await recordSignOut(db, userId, ip, "everywhere");
}
