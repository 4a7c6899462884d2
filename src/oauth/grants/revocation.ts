/**
 * Revocation that reaches everywhere at once: every family lives in its user's UserGrants object,
 * so revoking is one call per affected user; the D1 index says which users those are.
 */
import type { Env } from "../../config";
import { accessTokenGrants, everyUserGrants, userGrants } from "../../durable/stub";
import { recordAuditLater } from "../../store/audit";
import { markClientTokensRevoked } from "../../store/clients";
import { dbOf } from "../../store/db";
import { liveFamiliesOfClient, markFamiliesRevoked } from "../../store/token-families";
import { readGrantToken, refreshTokenFirst } from "../../tokens/grant-tokens";
import { sha256 } from "../../tokens/secrets";
import type { VerifiedProof } from "../dpop";
import { proofReplayKey } from "../dpop-proof";
import { OAuthError } from "../errors";
import { boundKeyOf, readAccessToken } from "../token-status";
import type { GrantContext } from "./context";

async function revokeFamiliesByUser(env: Env, families: { id: string; userId: string }[], reason: string, now: number) {
  const byUser = new Map<string, string[]>();
  for (const f of families) byUser.set(f.userId, [...(byUser.get(f.userId) ?? []), f.id]);
  const revoked = await Promise.all(
    [...byUser].map(([userId, familyIds]) => userGrants(env, userId).revokeFamilies({ familyIds }, reason, now)),
  );
  await markFamiliesRevoked(dbOf(env.DB), revoked.flat(), now);
}

/**
 * Every token of a client dies now: all its token families (refresh tokens and the access tokens
 * minted from them) and, for a client-credentials app, every access token of its service user.
 */
export async function revokeAllTokensOfClient(env: Env, clientId: string): Promise<void> {
  const db = dbOf(env.DB);
  const now = Date.now();
  // It also moves clients.revoked_before, which is what kills access tokens already handed out.
  const serviceUserId = await markClientTokensRevoked(db, clientId, now);
  await revokeFamiliesByUser(env, await liveFamiliesOfClient(db, clientId), "client_revoked", now);
  if (serviceUserId) {
    await Promise.all(everyUserGrants(env, serviceUserId).map((grants) => grants.revokeAllBefore(now)));
  }
}

/** A user revokes one connected app: every family of that user with that client dies. */
export async function revokeUserClientTokens(env: Env, userId: string, clientId: string): Promise<void> {
  const now = Date.now();
  // The object returns what it revoked: that is what the D1 index must mark.
  const revoked = await userGrants(env, userId).revokeFamilies({ clientId }, "user_revoked", now);
  await markFamiliesRevoked(dbOf(env.DB), revoked, now);
}

/**
/**
 * With a proof: spend its jti in the holder's object (RFC 9449 §11.1) and say whether the token's
 * binding allows it; a proof by another key than the token's leaves the token alone.
 */
async function proofAllows(
  grants: ReturnType<typeof accessTokenGrants>,
  proof: VerifiedProof | undefined,
  boundTo: string | undefined,
): Promise<boolean> {
  if (!proof) return true;
  if (!(await grants.spendProof(proofUse(proof)))) throw proofReplayedError();
  return boundTo === undefined || boundTo === proof.jkt;
}

const proofUse = (proof: VerifiedProof) => ({
  key: proofReplayKey(proof),
  expiresAt: proof.replayUntil,
  jkt: proof.jkt,
});
const proofReplayedError = () =>
  new OAuthError("invalid_dpop_proof", "this DPoP proof was already used (RFC 9449 §11.1)");

/**
 * RFC 7009 §2.1: a refresh token ends its whole family, and the access tokens minted from it: one
 * call to the holder's object, which is the authority (and spends a DPoP proof's jti in the same
 * transaction); the D1 index and the audit follow in waitUntil.
 */
async function revokeRefreshToken(
  ctx: GrantContext,
  clientId: string,
  token: string,
  proof?: VerifiedProof,
): Promise<boolean> {
  const route = await readGrantToken(ctx.settings, "refresh", token);
  if (!route) return false;
  const now = Date.now();
  const found = await userGrants(ctx.env, route.userId).revokeRefresh(
    await sha256(token),
    clientId,
    now,
    proof && proofUse(proof),
  );
  if (!found) return false;
  if ("replayed" in found) throw proofReplayedError();
  if (found.revoked) {
    ctx.defer(markFamiliesRevoked(ctx.db, [found.familyId], now));
    auditRevocation(ctx, route.teamId, route.userId, clientId, {
      token_type: "refresh_token",
      family_id: found.familyId,
    });
  }
  return true;
}

/** RFC 7009 §2.1: an access token is revoked by its jti until it would have expired anyway. */
async function revokeAccessToken(
  ctx: GrantContext,
  clientId: string,
  token: string,
  proof?: VerifiedProof,
): Promise<boolean> {
  const claims = await readAccessToken(ctx, token);
  if (!claims || claims.client_id !== clientId) return false;
  const grants = accessTokenGrants(ctx.env, claims.sub, claims.jti);
  if (!(await proofAllows(grants, proof, boundKeyOf(claims)))) return true;
  await grants.revokeAccessToken(claims.jti, claims.exp * 1000);
  auditRevocation(ctx, claims.team_id, claims.sub, clientId, { token_type: "access_token", jti: claims.jti });
  return true;
}

/** The token.revoked event, written after the response (it need not delay the client). */
function auditRevocation(
  ctx: GrantContext,
  teamId: string,
  userId: string,
  clientId: string,
  detail: Record<string, unknown>,
): void {
  ctx.defer(
    recordAuditLater(ctx.db, { kind: "token.revoked", teamId, actorUserId: userId, clientId, ip: ctx.ip, detail }),
  );
}

/**
 * Revokes `token` if it is one of `clientId`'s; anything else changes nothing and is not reported
 * (RFC 7009 §2.2). The hint says where to look first, never where to look only (§2.1).
 * `proof`: an optional DPoP proof (RFC 9449), checked by the caller like at the token endpoint; its
 * jti is spent in the token holder's object, and a token bound to another key is left alone.
 */
export async function revokePresentedToken(
  ctx: GrantContext,
  clientId: string,
  token: string,
  hint: string | undefined,
  proof?: VerifiedProof,
): Promise<void> {
  const order = refreshTokenFirst(token, hint)
    ? [revokeRefreshToken, revokeAccessToken]
    : [revokeAccessToken, revokeRefreshToken];
  for (const revoke of order) if (await revoke(ctx, clientId, token, proof)) return;
}
