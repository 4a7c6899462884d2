/**
 * DPoP at a resource server (RFC 9449 §7): the proof that comes with `Authorization: DPoP <token>`
 * is checked by the same rule as at edge-oidc itself (src/oauth/dpop-proof.ts: typ, alg, signature,
 * htm, htu, iat window, ath), its key must be the one the token is bound to (`cnf.jkt`), and its
 * jti must be new. No server nonces here (§9 makes them optional for resource servers).
 *
 * Replay: by default each isolate remembers the proofs it saw for their acceptance window (about a
 * minute). That stops a replay to the same isolate, not to another one; for an exact, global check
 * pass `replay`, e.g. a call to a Durable Object of your own (see README).
 */

import { proofReplayKey, type VerifiedProof, verifyDpopProof } from "../oauth/dpop-proof";
import { DPOP_SIGNING_ALGS } from "../oauth/signing-algorithms";

export { DPOP_SIGNING_ALGS };

/** Records a proof (`key`, until `expiresAt` Unix ms); false when it was seen already. */
export type DpopReplayCheck = (key: string, expiresAt: number) => Promise<boolean>;

const MAX_REMEMBERED = 10_000;

/** The default replay check: this isolate's memory, bounded, oldest entries dropped first. */
export function isolateReplayCheck(): DpopReplayCheck {
  const seen = new Map<string, number>();
  return async (key, expiresAt) => {
    const now = Date.now();
    const until = seen.get(key);
    if (until !== undefined && until > now) return false;
    if (seen.size >= MAX_REMEMBERED) {
      for (const [k, t] of seen) {
        if (t <= now || seen.size >= MAX_REMEMBERED) seen.delete(k);
        else break;
      }
    }
    seen.set(key, expiresAt);
    return true;
  };
}

export type ProofVerdict = { proof: VerifiedProof } | { problem: string };

/** §4.3 and §7.1 for one request: `htu` is the resource's origin plus the request's path. */
export async function checkResourceProof(
  header: string | undefined,
  request: { method: string; htu: string; accessToken: string },
  replay: DpopReplayCheck,
): Promise<ProofVerdict> {
  if (header === undefined || header === "") {
    return { problem: "the DPoP scheme needs a DPoP proof header (RFC 9449 §7.1)" };
  }
  if (header.includes(",")) return { problem: "send exactly one DPoP header (RFC 9449 §4.3)" };
  const checked = await verifyDpopProof(header, {
    htm: request.method,
    htu: request.htu,
    accessToken: request.accessToken,
  });
  if ("problem" in checked) return checked;
  if (!(await replay(proofReplayKey(checked.proof), checked.proof.replayUntil))) {
    return { problem: "this DPoP proof was already used (RFC 9449 §11.1)" };
  }
  return checked;
}
