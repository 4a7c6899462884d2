/**
 * The UserInfo use case (OIDC Core §5.3): the claims a live access token releases, or why it
 * releases none. Its path is the hot one of gateways: verify the JWT locally, then one call to the
 * holder's UserGrants object (revocation and the holder's current roles and claims), no D1 read.
 * DPoP-bound tokens (RFC 9449 §7) come with the DPoP scheme and a proof, whose jti is spent in that
 * same call to the user's object; a bound token presented as a bearer token is refused (§7.1).
 */
import { identityClaims } from "./claims";
import { readDpopProof } from "./dpop";
import { proofReplayKey } from "./dpop-proof";
import { OAuthError } from "./errors";
import { ENDPOINT_PATHS } from "./metadata";
import { isAudienceOf } from "./resource";
import { accessTokenStatus, boundKeyOf, type LiveToken, readAccessToken, type StatusContext } from "./token-status";

/** How the token was presented: "DPoP" only from the Authorization header (RFC 9449 §7.1). */
export interface PresentedToken {
  token: string;
  scheme: "Bearer" | "DPoP";
  /** The request's `DPoP` header, if any, and its method (the proof's htm). */
  proofHeader: string | undefined;
  method: string;
}

export type UserinfoError = "invalid_token" | "insufficient_scope" | "invalid_dpop_proof";

/** A refusal names the scheme of the challenge to answer with (RFC 6750 §3, RFC 9449 §7.1). */
export type UserinfoResult =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; error: UserinfoError; description: string; challenge: "Bearer" | "DPoP" };

const INVALID = "the access token is invalid, expired or revoked";

type Refusal = Extract<UserinfoResult, { ok: false }>;

function dpopRefusal(error: UserinfoError, description: string): Refusal {
  return { ok: false, error, description, challenge: "DPoP" };
}

/** RFC 9449 §7.1: the proof must be valid, carry the token's hash, and be signed by the bound key. */
async function dpopTokenStatus(ctx: StatusContext, presented: PresentedToken): Promise<LiveToken | Refusal> {
  const { token } = presented;
  // Throws invalid_dpop_proof / use_dpop_nonce with the DPoP challenge (surface "resource").
  const proof = await readDpopProof(ctx.settings, {
    header: presented.proofHeader,
    method: presented.method,
    path: ENDPOINT_PATHS.userinfo,
    accessToken: token,
    surface: "resource",
  });
  if (!proof) return dpopRefusal("invalid_dpop_proof", "the DPoP scheme needs a DPoP proof header (RFC 9449 §7.1)");
  const claims = await readAccessToken(ctx, token);
  if (!claims) return dpopRefusal("invalid_token", INVALID);
  const bound = boundKeyOf(claims);
  if (bound === undefined) return dpopRefusal("invalid_token", "this access token is not DPoP-bound: use Bearer");
  if (bound !== proof.jkt) {
    return dpopRefusal(
      "invalid_token",
      "the DPoP proof is signed by another key than the token is bound to (RFC 9449 §7.1)",
    );
  }
  try {
    const status = await accessTokenStatus(
      ctx,
      token,
      { key: proofReplayKey(proof), expiresAt: proof.replayUntil },
      claims,
    );
    return status ?? dpopRefusal("invalid_token", INVALID);
  } catch (e) {
    // A replayed proof: at a protected resource that is a 401 with the DPoP challenge (RFC 9449 §7.1).
    if (e instanceof OAuthError && e.code === "invalid_dpop_proof")
      return dpopRefusal("invalid_dpop_proof", e.description);
    throw e;
  }
}

export async function userinfoClaims(ctx: StatusContext, presented: PresentedToken): Promise<UserinfoResult> {
  const challenge = presented.scheme;
  let status: LiveToken | null;
  if (challenge === "DPoP") {
    const checked = await dpopTokenStatus(ctx, presented);
    if ("ok" in checked) return checked;
    status = checked;
  } else {
    status = await accessTokenStatus(ctx, presented.token);
    // RFC 9449 §7.1: a DPoP-bound token is worthless without its key, so never as a bearer token.
    if (status?.jkt) {
      return dpopRefusal("invalid_token", "this access token is DPoP-bound: send it with the DPoP scheme and a proof");
    }
  }
  if (!status) return { ok: false, error: "invalid_token", description: INVALID, challenge };
  // OIDC Core §5.3: userinfo is for tokens that carry the openid scope.
  if (!status.scopes.includes("openid")) {
    return {
      ok: false,
      error: "insufficient_scope",
      description: "the access token lacks the openid scope",
      challenge,
    };
  }
  // RFC 9068 §4: a token issued for another resource is not a UserInfo token.
  if (!isAudienceOf(status.aud, ctx.settings.issuer)) {
    return {
      ok: false,
      error: "invalid_token",
      description: "the access token is not for this server (aud)",
      challenge,
    };
  }
  return { ok: true, claims: { sub: status.sub, ...identityClaims(status.user, status.membership, status.scopes) } };
}
