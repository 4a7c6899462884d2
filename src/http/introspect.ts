/**
 * POST /oauth/introspect (RFC 7662). Client-authenticated. A confidential client may introspect
 * tokens of its own team (resource servers); a public client only its own tokens. Anything else —
 * expired, revoked, malformed, foreign — is `{"active": false}` with no detail (RFC 7662 §2.2).
 */
import type { Context } from "hono";
import { clientEndpointProof } from "../oauth/dpop";
import { proofReplayKey } from "../oauth/dpop-proof";
import { OAuthError } from "../oauth/errors";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { introspectionResponse } from "../oauth/token-status";
import { type AppEnv, authenticatedClient, readForm, useCaseContext } from "./context";

export async function handleIntrospect(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const caller = await authenticatedClient(c, form);
  if (!form.token) throw new OAuthError("invalid_request", "token is required");
  const ctx = useCaseContext(c);
  // RFC 9449 defines no proof here; one that is sent anyway is checked, and spent in the same call
  // to the holder's object that inspects the token (§11.1), rather than silently ignored.
  const proof = await clientEndpointProof(ctx.settings, ENDPOINT_PATHS.introspection, c.req.header("DPoP"));
  const body = await introspectionResponse(
    ctx,
    caller,
    form.token,
    form.token_type_hint,
    proof && { key: proofReplayKey(proof), expiresAt: proof.replayUntil },
  );
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
