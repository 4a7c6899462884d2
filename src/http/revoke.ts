/**
 * POST /oauth/revoke (RFC 7009). Client-authenticated; a client revokes only its own tokens.
 * Unknown, malformed, already-revoked and other clients' tokens all get 200 with no effect
 * (RFC 7009 §2.2), so the endpoint tells nobody anything about a token they do not own.
 * A DPoP proof (RFC 9449) is optional here, as no client library sends one; when present it is
 * checked like at the token endpoint, its jti is spent in the token holder's object, and a token
 * bound to another key is left alone.
 */
import type { Context } from "hono";
import { clientEndpointProof } from "../oauth/dpop";
import { OAuthError } from "../oauth/errors";
import { revokePresentedToken } from "../oauth/grants/revocation";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { type AppEnv, authenticatedClient, readForm, useCaseContext } from "./context";

export async function handleRevoke(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const client = await authenticatedClient(c, form);
  if (!form.token) throw new OAuthError("invalid_request", "token is required");
  const ctx = useCaseContext(c);
  const proof = await clientEndpointProof(ctx.settings, ENDPOINT_PATHS.revocation, c.req.header("DPoP"));
  await revokePresentedToken(ctx, client.id, form.token, form.token_type_hint, proof);
  return c.body(null, 200, { "Cache-Control": "no-store" });
}
