/**
 * POST /oauth/revoke (RFC 7009). Client-authenticated; a client revokes only its own tokens.
 * Unknown, malformed, already-revoked and other clients' tokens all get 200 with no effect
 * (RFC 7009 §2.2), so the endpoint tells nobody anything about a token they do not own.
 * A DPoP proof (RFC 9449) is optional here, as no client library sends one; when present it is
 * checked like at the token endpoint, its jti is spent in the token holder's object, and a token
 * bound to another key is left alone.
 */
import type { Context } from "hono";
import { revokePresentedToken } from "../oauth/grants/revocation";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { type AppEnv, readTokenStatusRequest } from "./context";

export async function handleRevoke(c: Context<AppEnv>): Promise<Response> {
  const { ctx, client, token, hint, proof } = await readTokenStatusRequest(c, ENDPOINT_PATHS.revocation);
  await revokePresentedToken(ctx, client.id, token, hint, proof);
  return c.body(null, 200, { "Cache-Control": "no-store" });
}
