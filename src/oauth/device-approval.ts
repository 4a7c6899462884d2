/**
 * The person's side of the device authorization grant (RFC 8628 §3.3): find the pending request
 * behind a user code, then allow or deny it. Allowing starts the token family in the person's
 * UserGrants object (as a code flow's authorization does) before the request is marked approved,
 * so a poll that sees the approval always finds the family; if another answer won the race, that
 * family is revoked at once. The team, its binding and the consent form's reading are the
 * authorization endpoint's (authorization.ts, scope-groups.ts).
 */

import type { Env, Settings } from "../config";
import type { DeviceAuthorizationView } from "../durable/device-authorization";
import { deviceAuthorizationByUserCode, userGrants } from "../durable/stub";
import { USER_CODE_ENTRY_LIMITS } from "../limits";
import { recordAudit } from "../store/audit";
import type { ClientRow } from "../store/clients";
import { addConsent, consentedScopes } from "../store/consents";
import { insertTokenFamily, markFamiliesRevoked } from "../store/token-families";
import { listMemberships } from "../store/users";
import { randomToken } from "../tokens/secrets";
import { bindTeam, type Membership, type SignedInPerson, teamOf } from "./authorization";
import { ceilingOf } from "./claims";
import { resolveClient } from "./client-lookup";
import { OAuthError } from "./errors";
import { DEVICE_CODE_GRANT_TYPE } from "./grant-types";
import type { GrantContext } from "./grants/context";
import { type CounterStore, consumeQuota, type QuotaDecision, rateLimitSubject } from "./rate-limit";
import { type ConsentDecision, scopesFromConsentForm } from "./scope-groups";

/** Counts one code entry against the session's and the address's windows; refused when either is spent. */
export async function consumeUserCodeEntry(
  counters: CounterStore,
  sessionIdHash: string,
  ip: string | null,
): Promise<QuotaDecision> {
  const [bySession, byIp] = await Promise.all([
    consumeQuota(counters, { name: "device-session", subject: sessionIdHash, ...USER_CODE_ENTRY_LIMITS.perSession }),
    consumeQuota(counters, {
      name: "device-ip",
      subject: rateLimitSubject(ip ?? undefined),
      ...USER_CODE_ENTRY_LIMITS.perIp,
    }),
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

/** What the consent page shows for a device request, as for an authorization request (authorization.ts). */
export interface DeviceConsent {
  membership: Membership;
  consented: Set<string>;
  /** The role ceiling within the app's scopes: what the person could allow. */
  grantable: Set<string>;
}

/** The consent page's facts for a person about to answer a device request. */
export async function deviceConsent(
  ctx: GrantContext,
  person: SignedInPerson,
  request: DeviceRequest,
): Promise<DeviceConsent> {
  const membership = await teamOf(ctx, await listMemberships(ctx.db, person.user.id), request);
  const consented = await consentedScopes(ctx.db, person.user.id, request.client.id);
  return { membership, consented, grantable: ceilingOf(membership, request.client.scopes) };
}

/**
 * The /device consent form's answer (RFC 8628 §3.3): allowed with what was requested and ticked
 * (with its area) within the role and the app's scopes, as the authorization endpoint's consent
 * decides; nothing left is a denial. `shownRequest` pins the answer to the request the page showed.
 */
export async function decideDeviceRequest(
  ctx: GrantContext,
  person: SignedInPerson,
  request: DeviceRequest,
  shownRequest: string,
  decision: ConsentDecision,
): Promise<"approved" | "denied"> {
  const membership = await teamOf(ctx, await listMemberships(ctx.db, person.user.id), request);
  const answer: DeviceAnswer = { request, shownRequest, person, membership };
  const approved = decision.approve
    ? scopesFromConsentForm(request.pending.scopes, decision.ticked, ceilingOf(membership, request.client.scopes))
    : [];
  if (approved.length === 0) {
    await denyDeviceRequest(ctx, answer);
    return "denied";
  }
  // Bind before recording consent: a person of another team must leave no consent behind.
  await bindTeam(ctx, request, membership.teamId);
  await approveDeviceRequest(ctx, answer, approved);
  return "approved";
}

interface DeviceAnswer {
  request: DeviceRequest;
  /** The `request` field of the consent form: the request the person was shown, not a newer one. */
  shownRequest: string;
  person: SignedInPerson;
  membership: Membership;
}

function auditOf(ctx: GrantContext, answer: DeviceAnswer) {
  return {
    teamId: answer.membership.teamId,
    actorUserId: answer.person.user.id,
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
async function approveDeviceRequest(ctx: GrantContext, answer: DeviceAnswer, scopes: string[]): Promise<void> {
  refuseStale(answer);
  const { request, membership } = answer;
  const { user } = answer.person;
  const familyId = randomToken(16);
  const now = Date.now();
  // Index first, not batched: if the object refuses the family below, its index row is marked revoked
  // at once, so the row must already be there (a batched row landing later would list a live family).
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
    authTime: answer.person.authTime,
    holder: { email: user.email, name: user.name, role: membership.role, onCallRole: membership.onCallRole },
    holderVersion: membership.membershipVersion,
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
async function denyDeviceRequest(ctx: GrantContext, answer: DeviceAnswer): Promise<void> {
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
