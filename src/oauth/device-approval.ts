/**
 * The person's side of the device authorization grant (RFC 8628 §3.3): find the pending request
 * behind a user code, then allow or deny it. Allowing starts the token family in the person's
 * UserGrants object (as a code flow's authorization does) before the request is marked approved,
 * so a poll that sees the approval always finds the family; if another answer won the race, that
 * family is revoked at once.
 */
import type { Env, Settings } from "../config";
import type { DeviceAuthorizationView } from "../durable/device-authorization";
import { deviceAuthorizationByUserCode, userGrants } from "../durable/stub";
import { recordAudit } from "../store/audit";
import type { ClientRow } from "../store/clients";
import { addConsent } from "../store/consents";
import { insertTokenFamily, markFamiliesRevoked } from "../store/token-families";
import type { UserInTeam } from "../store/users";
import { randomToken } from "../tokens/secrets";
import { resolveClient } from "./client-lookup";
import { OAuthError } from "./errors";
import { DEVICE_CODE_GRANT_TYPE } from "./grant-types";
import type { GrantContext } from "./grants/context";
import { consumeQuota, type QuotaDecision, rateLimitSubject } from "./rate-limit";

/**
 * User-code entry limits (RFC 8628 §5.1): a code has 40 bits, so guessing is hopeless at these
 * rates; docs/security.md does the arithmetic. Every submission counts, right or wrong.
 */
export const USER_CODE_ENTRY_LIMITS = {
  perSession: { limit: 10, windowSeconds: 15 * 60 },
  perIp: { limit: 50, windowSeconds: 3600 },
} as const;

/** Counts one code entry against the session's and the address's windows; refused when either is spent. */
export async function consumeUserCodeEntry(
  kv: KVNamespace,
  sessionIdHash: string,
  ip: string | undefined,
): Promise<QuotaDecision> {
  const [bySession, byIp] = await Promise.all([
    consumeQuota(kv, { name: "device-session", subject: sessionIdHash, ...USER_CODE_ENTRY_LIMITS.perSession }),
    consumeQuota(kv, { name: "device-ip", subject: rateLimitSubject(ip), ...USER_CODE_ENTRY_LIMITS.perIp }),
  ]);
  if (bySession.allowed && byIp.allowed) return { allowed: true };
  const waits = [bySession, byIp].map((d) => (d.allowed ? 0 : d.retryAfter));
  return { allowed: false, retryAfter: Math.max(...waits) };
}

export interface DeviceRequest {
  /** Normalized (no dash). */
  userCode: string;
  pending: DeviceAuthorizationView;
  client: ClientRow;
}

/** The pending request a typed (normalized) code names, or null: unknown, expired, answered, or app gone. */
export async function findDeviceRequest(env: Env, settings: Settings, userCode: string): Promise<DeviceRequest | null> {
  const pending = await deviceAuthorizationByUserCode(env, userCode).describe(Date.now());
  if (pending?.status !== "pending") return null;
  const { client } = await resolveClient(env, settings, pending.clientId);
  if (!client?.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) return null;
  return { userCode, pending, client };
}

export interface DeviceAnswer {
  request: DeviceRequest;
  /** The `request` field of the consent form: the request the person was shown, not a newer one. */
  shownRequest: string;
  holder: UserInTeam;
  /** Unix seconds of the session's sign-in (the ID token's auth_time). */
  authTime: number;
}

function auditOf(ctx: GrantContext, answer: DeviceAnswer) {
  return {
    teamId: answer.holder.membership.teamId,
    actorUserId: answer.holder.user.id,
    clientId: answer.request.client.id,
    ip: ctx.ip,
  };
}

function refuseStale(answer: DeviceAnswer): void {
  if (answer.shownRequest !== answer.request.pending.deviceCodeHash) {
    throw new OAuthError("invalid_request", "this code now belongs to another request");
  }
}

/** Allows the request with `scopes` (requested ∩ ticked ∩ the role ceiling, never empty). */
export async function approveDeviceRequest(ctx: GrantContext, answer: DeviceAnswer, scopes: string[]): Promise<void> {
  refuseStale(answer);
  const { request, holder } = answer;
  const { user, membership } = holder;
  const familyId = randomToken(16);
  const now = Date.now();
  // Index first: a family the index does not know could escape "revoke every token of this app".
  await insertTokenFamily(ctx.db, {
    id: familyId,
    userId: user.id,
    clientId: request.client.id,
    teamId: membership.teamId,
    scopes,
    resource: request.pending.resource,
    createdAt: now,
  });
  const grants = userGrants(ctx.env, user.id);
  const issued = await grants.issueDeviceCode({
    familyId,
    clientId: request.client.id,
    teamId: membership.teamId,
    scopes,
    resource: request.pending.resource,
    authTime: answer.authTime,
    holder: { email: user.email, name: user.name, role: membership.role, onCallRole: membership.onCallRole },
    codeHash: request.pending.deviceCodeHash,
    expiresAt: request.pending.expiresAt,
    now,
  });
  const decided = issued
    ? await deviceAuthorizationByUserCode(ctx.env, request.userCode).decide(
        request.pending.deviceCodeHash,
        { approve: { userId: user.id, familyId, teamId: membership.teamId } },
        now,
      )
    : { ok: false };
  if (!decided.ok) {
    if (!issued) await markFamiliesRevoked(ctx.db, [familyId], now);
    await markFamiliesRevoked(
      ctx.db,
      await grants.revokeFamilies({ familyIds: [familyId] }, "device_not_pending", now),
      now,
    );
    throw new OAuthError("invalid_request", "this code was already answered or has expired");
  }
  await addConsent(ctx.db, user.id, request.client.id, scopes);
  await recordAudit(ctx.db, { ...auditOf(ctx, answer), kind: "device.approved", detail: { scopes } });
}

/** Denies the request: the device's next poll gets access_denied (RFC 8628 §3.5). */
export async function denyDeviceRequest(ctx: GrantContext, answer: DeviceAnswer): Promise<void> {
  refuseStale(answer);
  const { request } = answer;
  const decided = await deviceAuthorizationByUserCode(ctx.env, request.userCode).decide(
    request.pending.deviceCodeHash,
    { deny: true },
    Date.now(),
  );
  if (!decided.ok) throw new OAuthError("invalid_request", "this code was already answered or has expired");
  await recordAudit(ctx.db, {
    ...auditOf(ctx, answer),
    kind: "device.denied",
    detail: { scopes: request.pending.scopes },
  });
}
