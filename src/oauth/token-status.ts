/**
 * Is this token alive, and what may it do right now? The one answer behind introspection,
 * userinfo and revocation. An access token is verified locally (signature, issuer, lifetime), then
 * one call to its user's UserGrants object checks revocation and returns the holder's current
 * membership (kept in step with D1 by every writer before it answers: docs/architecture.md) — so a
 * revocation or a role downgrade takes effect at once, with no D1 read.
 */
import type { Env, Settings } from "../config";
import { accessTokenGrants, userGrants } from "../durable/stub";
import type { ProofUse } from "../durable/user-grants";
import { type ClientRow, getClientCached } from "../store/clients";
import type { Db } from "../store/db";
import type { UserRow } from "../store/users";
import { type VerifiedAccessToken, verifyAccessToken } from "../tokens/access-token";
import { readGrantToken, refreshTokenFirst } from "../tokens/grant-tokens";
import { sha256 } from "../tokens/secrets";
import { keysetOf } from "../tokens/signing-keys";
import { ceilingOf } from "./claims";
import { OAuthError } from "./errors";
import { effectiveScopes, formatScope, parseScope } from "./scopes";

export interface LiveToken {
  kind: "access_token" | "refresh_token";
  clientId: string;
  sub: string;
  teamId: string;
  /** Effective now: granted ∩ the holder's current ceiling. */
  scopes: string[];
  /** As issued: an access token's may name several audiences (resource.ts). */
  aud: string | string[];
  /** Unix seconds. */
  iat: number;
  exp: number;
  user: Pick<UserRow, "email" | "name">;
  membership: { teamId: string; role: string; onCallRole: string };
  /** RFC 9449 §6: the DPoP key thumbprint the token is bound to, if any. */
  jkt?: string;
}

export interface StatusContext {
  env: Env;
  settings: Settings;
  db: Db;
}

/** What jose verified, or null; exported for revocation, which must work on revoked tokens too. */
export async function readAccessToken(ctx: StatusContext, token: string): Promise<VerifiedAccessToken | null> {
  return verifyAccessToken(await keysetOf(ctx.db, ctx.settings), ctx.settings, token);
}

function proofReplayed(): OAuthError {
  return new OAuthError("invalid_dpop_proof", "this DPoP proof was already used (RFC 9449 §11.1)");
}

/** The thumbprint in a verified token's `cnf` (RFC 9449 §6.1), if it is DPoP-bound. */
export function boundKeyOf(claims: VerifiedAccessToken): string | undefined {
  return typeof claims.cnf?.jkt === "string" ? claims.cnf.jkt : undefined;
}

/**
 * `proof`: a DPoP proof that came with the token (UserInfo); its jti is spent in the same call to
 * the holder's object that checks revocation (RFC 9449 §11.1), so it costs no extra round trip.
 */
export async function accessTokenStatus(
  ctx: StatusContext,
  token: string,
  proof?: ProofUse,
  verified?: VerifiedAccessToken,
): Promise<LiveToken | null> {
  const claims = verified ?? (await readAccessToken(ctx, token));
  if (!claims) return null;
  const grants = accessTokenGrants(ctx.env, claims.sub, claims.jti);
  const access = { familyId: claims.fid, jti: claims.jti, iat: claims.iat, teamId: claims.team_id };
  const [check, client] = await Promise.all([
    proof ? grants.checkAccessWithProof(access, proof) : grants.checkAccess(access),
    getClientCached(ctx.db, ctx.settings, claims.client_id),
  ]);
  if ("replayed" in check) throw proofReplayed();
  if (!check.active || !client) return null;
  const { holder } = check;
  // "Revoke every token of this app" also stamps the client: a token minted before it is dead
  // even if its family escaped the fan-out (created while the revocation ran).
  if (claims.iat * 1000 < client.revokedBefore) return null;
  const granted = parseScope(claims.scope);
  if ("invalid" in granted) return null;
  return {
    kind: "access_token",
    clientId: claims.client_id,
    sub: claims.sub,
    teamId: claims.team_id,
    scopes: effectiveScopes(granted, ceilingOf(holder, client.scopes)),
    aud: claims.aud,
    iat: claims.iat,
    exp: claims.exp,
    user: holder,
    membership: { teamId: claims.team_id, role: holder.role, onCallRole: holder.onCallRole },
    jkt: boundKeyOf(claims),
  };
}

async function refreshTokenStatus(ctx: StatusContext, token: string, proof?: ProofUse): Promise<LiveToken | null> {
  const route = await readGrantToken(ctx.settings, "refresh", token);
  if (!route) return null;
  const grants = userGrants(ctx.env, route.userId);
  const tokenHash = await sha256(token);
  const found = proof
    ? await grants.inspectRefreshWithProof(tokenHash, Date.now(), proof)
    : await grants.inspectRefresh(tokenHash, Date.now());
  if (found && "replayed" in found) throw proofReplayed();
  const holder = found?.holder;
  if (!found?.active || !holder) return null;
  const client = await getClientCached(ctx.db, ctx.settings, found.grant.clientId);
  if (!client || found.familyCreatedAt < client.revokedBefore) return null;
  return {
    kind: "refresh_token",
    clientId: found.grant.clientId,
    sub: route.userId,
    teamId: found.grant.teamId,
    scopes: effectiveScopes(found.grant.scopes, ceilingOf(holder, client.scopes)),
    aud: found.grant.resource ?? ctx.settings.defaultAudience,
    iat: Math.floor(found.issuedAt / 1000),
    exp: Math.floor(found.expiresAt / 1000),
    user: holder,
    membership: { teamId: found.grant.teamId, role: holder.role, onCallRole: holder.onCallRole },
    jkt: found.jkt ?? undefined,
  };
}

/**
 * RFC 7662 §2.1 / RFC 7009 §2.1: the hint says where to look first, never where to look only.
 * `proof`: a DPoP proof sent with the request (introspection); its jti is spent in the holder's
 * object in the same call that inspects the token. Only a token of ours reaches an object, so a
 * proof is spent once, by whichever kind the token turns out to be.
 */
export async function tokenStatus(
  ctx: StatusContext,
  token: string,
  hint: string | undefined,
  proof?: ProofUse,
): Promise<LiveToken | null> {
  const order = refreshTokenFirst(token, hint)
    ? [refreshTokenStatus, accessTokenStatus]
    : [accessTokenStatus, refreshTokenStatus];
  for (const inspect of order) {
    const status = await inspect(ctx, token, proof);
    if (status) return status;
  }
  return null;
}

/**
 * The RFC 7662 §2.2 answer for `caller`: a confidential client sees tokens of its own team
 * (resource servers), a public client only its own; anything else is `{"active": false}`.
 * `proof`: a DPoP proof sent with the request, spent as tokenStatus says; a DPoP-bound token
 * reports its key (RFC 9449 §6.2) so the resource server can check the proof it was shown.
 */
export async function introspectionResponse(
  ctx: StatusContext,
  caller: ClientRow,
  token: string,
  hint: string | undefined,
  proof?: ProofUse,
): Promise<Record<string, unknown>> {
  const status = await tokenStatus(ctx, token, hint, proof);
  const visible =
    status !== null &&
    (status.clientId === caller.id || (caller.tokenEndpointAuthMethod !== "none" && caller.teamId === status.teamId));
  if (!status || !visible) return { active: false };
  return {
    active: true,
    scope: formatScope(status.scopes),
    client_id: status.clientId,
    sub: status.sub,
    ...(status.user.email && status.scopes.includes("email")
      ? { username: status.user.email, email: status.user.email }
      : {}),
    exp: status.exp,
    iat: status.iat,
    iss: ctx.settings.issuer,
    aud: status.aud,
    token_type: status.kind === "access_token" ? (status.jkt ? "DPoP" : "Bearer") : "refresh_token",
    ...(status.jkt ? { cnf: { jkt: status.jkt } } : {}),
    team_id: status.teamId,
  };
}
