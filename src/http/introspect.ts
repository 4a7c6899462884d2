/**
 * POST /oauth/introspect (RFC 7662). Client-authenticated. A confidential client may introspect
 * tokens of its own team (resource servers); a public client only its own tokens. Anything else —
 * expired, revoked, malformed, foreign — is `{"active": false}` with no detail (RFC 7662 §2.2).
 */
import type { Context } from "hono";
import { OAuthError } from "../oauth/errors";
import { introspectionResponse } from "../oauth/token-status";
import { type AppEnv, authenticatedClient, readForm, useCaseContext } from "./context";

export async function handleIntrospect(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const caller = await authenticatedClient(c, form);
  if (!form.token) throw new OAuthError("invalid_request", "token is required");
  const body = await introspectionResponse(useCaseContext(c), caller, form.token, form.token_type_hint);
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
