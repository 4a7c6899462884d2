/**
 * POST /oauth/revoke (RFC 7009). Client-authenticated; a client revokes only its own tokens.
 * Unknown, malformed, already-revoked and other clients' tokens all get 200 with no effect
 * (RFC 7009 §2.2), so the endpoint tells nobody anything about a token they do not own.
 * A DPoP proof (RFC 9449) is optional here, as no client library sends one; when present it is
 * checked like at the token endpoint, its jti is spent in the token holder's object, and a token
 * bound to another key is left alone.
 */
import type { Context } from "hono";
import { userGrants } from "../durable/stub";
import { authenticateClient, readClientCredentials } from "../oauth/client-auth";
import { clientResolver } from "../oauth/client-lookup";
import { readDpopProof, type VerifiedProof } from "../oauth/dpop";
import { proofReplayKey } from "../oauth/dpop-proof";
import { OAuthError } from "../oauth/errors";
import type { GrantContext } from "../oauth/grants/context";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { boundKeyOf, readAccessToken } from "../oauth/token-status";
import { recordAudit } from "../store/audit";
import { markFamiliesRevoked } from "../store/token-families";
import { readGrantToken, refreshTokenFirst } from "../tokens/grant-tokens";
import { sha256 } from "../tokens/secrets";
import type { AppEnv } from "./context";
import { readForm } from "./form";
import { grantContext } from "./token";

/**
 * With a proof: spend its jti in the holder's object (RFC 9449 §11.1) and say whether the token's
 * binding allows it; a proof by another key than the token's leaves the token alone.
 */
async function proofAllows(
  ctx: GrantContext,
  userId: string,
  proof: VerifiedProof | undefined,
  boundTo: string | undefined,
): Promise<boolean> {
  if (!proof) return true;
  if (!(await userGrants(ctx.env, userId).spendProof({ key: proofReplayKey(proof), expiresAt: proof.replayUntil }))) {
    throw new OAuthError("invalid_dpop_proof", "this DPoP proof was already used (RFC 9449 §11.1)");
  }
  return boundTo === undefined || boundTo === proof.jkt;
}

async function revokeRefreshToken(
  ctx: GrantContext,
  clientId: string,
  token: string,
  proof?: VerifiedProof,
): Promise<boolean> {
  const route = await readGrantToken(ctx.settings, "refresh", token);
  if (!route) return false;
  const grants = userGrants(ctx.env, route.userId);
  const found = await grants.inspectRefreshWithBinding(await sha256(token), Date.now());
  if (!found || found.grant.clientId !== clientId) return false;
  if (!(await proofAllows(ctx, route.userId, proof, found.jkt ?? undefined))) return true;
  // Revoking a refresh token ends its whole family, and the access tokens minted from it.
  const revoked = await grants.revokeFamilies({ familyIds: [route.familyId] }, "revoked", Date.now());
  if (revoked.length > 0) {
    await markFamiliesRevoked(ctx.db, revoked, Date.now());
    ctx.defer(
      recordAudit(ctx.db, {
        kind: "token.revoked",
        teamId: route.teamId,
        actorUserId: route.userId,
        clientId,
        ip: ctx.ip,
        detail: { token_type: "refresh_token", family_id: route.familyId },
      }),
    );
  }
  return true;
}

async function revokeAccessToken(
  ctx: GrantContext,
  clientId: string,
  token: string,
  proof?: VerifiedProof,
): Promise<boolean> {
  const claims = await readAccessToken(ctx, token);
  if (!claims || claims.client_id !== clientId) return false;
  if (!(await proofAllows(ctx, claims.sub, proof, boundKeyOf(claims)))) return true;
  await userGrants(ctx.env, claims.sub).revokeAccessToken(claims.jti, claims.exp * 1000);
  ctx.defer(
    recordAudit(ctx.db, {
      kind: "token.revoked",
      teamId: claims.team_id,
      actorUserId: claims.sub,
      clientId,
      ip: ctx.ip,
      detail: { token_type: "access_token", jti: claims.jti },
    }),
  );
  return true;
}

export async function handleRevoke(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const ctx = grantContext(c);
  const client = await authenticateClient(
    ctx.db,
    ctx.settings,
    readClientCredentials(c.req.header("Authorization"), form),
    clientResolver(ctx.env, ctx.settings), // registered ids and metadata-document URLs
    ctx.env, // private_key_jwt: the assertion's jti is spent in the client's ClientReplay object
  );
  const token = form.token;
  if (!token) throw new OAuthError("invalid_request", "token is required");
  const proof = await readDpopProof(ctx.settings, {
    header: c.req.header("DPoP"),
    method: "POST",
    path: ENDPOINT_PATHS.revocation,
    surface: "token_endpoint",
  });
  const order = refreshTokenFirst(token, form.token_type_hint)
    ? [revokeRefreshToken, revokeAccessToken]
    : [revokeAccessToken, revokeRefreshToken];
  for (const revoke of order) if (await revoke(ctx, client.id, token, proof)) break;
  return c.body(null, 200, { "Cache-Control": "no-store" });
}
