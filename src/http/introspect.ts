/**
 * POST /oauth/introspect (RFC 7662). Client-authenticated. A confidential client may introspect
 * tokens of its own team (resource servers); a public client only its own tokens. Anything else —
 * expired, revoked, malformed, foreign — is `{"active": false}` with no detail (RFC 7662 §2.2).
 */
import type { Context } from "hono";
import { proofReplayKey } from "../oauth/dpop-proof";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { introspectionResponse } from "../oauth/token-status";
import { type AppEnv, readTokenStatusRequest } from "./context";

export async function handleIntrospect(c: Context<AppEnv>): Promise<Response> {
  const { ctx, client, token, hint, proof } = await readTokenStatusRequest(c, ENDPOINT_PATHS.introspection);
  // A proof is spent in the same call to the holder's object that inspects the token (RFC 9449 §11.1).
  const body = await introspectionResponse(
    ctx,
    client,
    token,
    hint,
    proof && { key: proofReplayKey(proof), expiresAt: proof.replayUntil },
  );
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
