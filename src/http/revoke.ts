/**
 * POST /oauth/revoke (RFC 7009). Client-authenticated; a client revokes only its own tokens.
 * Unknown, malformed, already-revoked and other clients' tokens all get 200 with no effect
 * (RFC 7009 §2.2), so the endpoint tells nobody anything about a token they do not own.
 */
import type { Context } from "hono";
import { OAuthError } from "../oauth/errors";
import { revokePresentedToken } from "../oauth/grants/revocation";
import { type AppEnv, authenticatedClient, readForm, useCaseContext } from "./context";

export async function handleRevoke(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const client = await authenticatedClient(c, form);
  if (!form.token) throw new OAuthError("invalid_request", "token is required");
  await revokePresentedToken(useCaseContext(c), client.id, form.token, form.token_type_hint);
  return c.body(null, 200, { "Cache-Control": "no-store" });
}
