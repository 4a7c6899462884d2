/**
 * The apps a person has connected, and taking one back: the use cases behind
 * /settings/connected-apps. An app is listed when the person consented to it, or when it holds live
 * tokens of theirs without a consent (apps the team's admins marked for automatic consent): either
 * way it can act for them. Revoking concerns only what this person granted.
 */
import type { Env } from "../config";
import { userGrants } from "../durable/stub";
import { MAX_CLIENT_ID_LENGTH } from "../limits";
import { recordAudit } from "../store/audit";
import { consentedScopes, deleteConsent, listConsentsOfUser } from "../store/consents";
import { dbOf } from "../store/db";
import { familyUsageOfUser, latestFamilyOfUserWithClient, liveFamilyScopesOfUser } from "../store/token-families";
import { revokeUserClientTokens } from "./grants/revocation";

export interface ConnectedApp {
  clientId: string;
  name: string;
  origin: "admin" | "registered" | "metadata_document";
  scopes: readonly string[];
  allowedAt: number;
  lastUsedAt: number | null;
  /** Allowed without a consent screen (the team's admins marked the app as trusted). */
  automatic: boolean;
}

export async function listConnectedApps(env: Env, userId: string): Promise<ConnectedApp[]> {
  const db = dbOf(env.DB);
  const [consents, indexed, live, lastUse] = await Promise.all([
    listConsentsOfUser(db, userId),
    familyUsageOfUser(db, userId),
    liveFamilyScopesOfUser(db, userId),
    // Token use is recorded by the user's UserGrants object (no D1 write on the token path).
    userGrants(env, userId).lastUseByClient(),
  ]);
  const usage = indexed.map((u) => ({ ...u, lastUsedAt: Math.max(u.lastUsedAt, lastUse[u.clientId] ?? 0) }));
  const usageOf = new Map(usage.map((u) => [u.clientId, u]));
  const apps: ConnectedApp[] = consents.map((consent) => ({
    clientId: consent.clientId,
    name: consent.clientName,
    origin: consent.origin,
    scopes: consent.scopes,
    allowedAt: consent.createdAt,
    lastUsedAt: usageOf.get(consent.clientId)?.lastUsedAt ?? null,
    automatic: false,
  }));
  const consented = new Set(apps.map((a) => a.clientId));
  for (const u of usage) {
    if (consented.has(u.clientId) || !u.liveFamilies) continue;
    const scopes = new Set(live.filter((f) => f.clientId === u.clientId).flatMap((f) => f.scopes));
    apps.push({
      clientId: u.clientId,
      name: u.clientName,
      origin: u.origin,
      scopes: [...scopes],
      allowedAt: u.firstAt,
      lastUsedAt: u.lastUsedAt,
      automatic: true,
    });
  }
  return apps;
}

export interface Revoker {
  userId: string;
  /** The team the audit event goes to when the app has none (a metadata-document client). */
  teamId: string | null;
  ip: string | null;
}

/**
 * Takes back what `person` granted `clientId`: their consent and every token family of theirs with
 * it, then the audit event. `not_connected` — the same answer for an unknown client and another
 * team's client — when the person granted it nothing, and then nothing is written anywhere.
 */
export async function revokeConnectedApp(
  env: Env,
  person: Revoker,
  clientId: string,
): Promise<{ outcome: "revoked" } | { outcome: "not_connected" }> {
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) return { outcome: "not_connected" };
  const db = dbOf(env.DB);
  const [consented, family] = await Promise.all([
    consentedScopes(db, person.userId, clientId),
    latestFamilyOfUserWithClient(db, person.userId, clientId),
  ]);
  if (consented.size === 0 && !family) return { outcome: "not_connected" };
  // The consent first, so the app cannot skip the consent screen while its tokens are being revoked.
  await deleteConsent(db, person.userId, clientId);
  await revokeUserClientTokens(env, person.userId, clientId);
  await recordAudit(db, {
    kind: "consent.revoked",
    teamId: family?.teamId ?? person.teamId,
    actorUserId: person.userId,
    clientId,
    ip: person.ip,
    detail: family ? { name: family.clientName } : {},
  });
  return { outcome: "revoked" };
}
