/**
 * How a verified DPoP proof (RFC 9449) reaches the grant's storage call: the replay key and
 * lifetime of its jti, the key it binds, and whether the family's refresh tokens are bound too.
 */
import { clientReplay } from "../../durable/stub";
import type { ProofBinding } from "../../durable/user-grants";
import type { ClientRow } from "../../store/clients";
import { bindsRefreshToken, type VerifiedProof } from "../dpop";
import { proofReplayKey } from "../dpop-proof";
import { OAuthError } from "../errors";
import type { GrantContext } from "./context";

export type GrantProof = VerifiedProof;

export function proofBinding(proof: GrantProof, client: ClientRow): ProofBinding {
  return {
    key: proofReplayKey(proof),
    expiresAt: proof.replayUntil,
    jkt: proof.jkt,
    bindRefresh: bindsRefreshToken(client),
  };
}

export function proofFailure(description: string): OAuthError {
  return new OAuthError("invalid_dpop_proof", description);
}

/** client_credentials: no user's object is involved, so the client's own ClientReplay object decides. */
export async function spendClientProof(ctx: GrantContext, client: ClientRow, proof: GrantProof): Promise<void> {
  if (!(await clientReplay(ctx.env, client.id).spend(proofReplayKey(proof), proof.replayUntil))) {
    throw proofFailure("this DPoP proof was already used (RFC 9449 §11.1)");
  }
}
