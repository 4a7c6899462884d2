/**
 * POST /oauth/introspect (RFC 7662). Client-authenticated. A confidential client may introspect
 * tokens of its own team (resource servers); a public client only its own tokens. Anything else —
 * expired, revoked, malformed, foreign — is `{"active": false}` with no detail (RFC 7662 §2.2).
 */
import type { Context } from "hono";
import { authenticateClient, readClientCredentials } from "../oauth/client-auth";
import { clientResolver } from "../oauth/client-lookup";
import { readDpopProof } from "../oauth/dpop";
import { proofReplayKey } from "../oauth/dpop-proof";
import { OAuthError } from "../oauth/errors";
import { ENDPOINT_PATHS } from "../oauth/metadata";
import { formatScope } from "../oauth/scopes";
import { tokenStatus } from "../oauth/token-status";
import type { AppEnv } from "./context";
import { readForm } from "./form";
import { grantContext } from "./token";

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

export async function handleIntrospect(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const ctx = grantContext(c);
  const caller = await authenticateClient(
    ctx.db,
    ctx.settings,
    readClientCredentials(c.req.header("Authorization"), form),
    clientResolver(ctx.env, ctx.settings), // registered ids and metadata-document URLs
    ctx.env, // private_key_jwt: the assertion's jti is spent in the client's ClientReplay object
  );
  if (!form.token) throw new OAuthError("invalid_request", "token is required");
  // RFC 9449 defines no proof here; one that is sent anyway is checked, and spent in the same call
  // to the holder's object that inspects the token (§11.1), rather than silently ignored.
  const proof = await readDpopProof(ctx.settings, {
    header: c.req.header("DPoP"),
    method: "POST",
    path: ENDPOINT_PATHS.introspection,
    surface: "token_endpoint",
  });
  const status = await tokenStatus(
    ctx,
    form.token,
    form.token_type_hint,
    proof && { key: proofReplayKey(proof), expiresAt: proof.replayUntil },
  );
  const visible =
    status !== null &&
    (status.clientId === caller.id || (caller.tokenEndpointAuthMethod !== "none" && caller.teamId === status.teamId));
  if (!status || !visible) return c.json({ active: false }, 200, NO_STORE);
  return c.json(
    {
      active: true,
      scope: formatScope(status.scopes),
      client_id: status.clientId,
      sub: status.sub,
      ...(status.user.email && status.scopes.includes("email")
        ? { username: status.user.email, email: status.user.email }
        : {}),
      exp: status.exp,
      iat: status.iat,
      iss: ctx.settings.issuer,
      aud: status.aud,
      // RFC 9449 §6.2: a DPoP-bound token reports its key, so the resource server can check the proof.
      token_type: status.kind === "access_token" ? (status.jkt ? "DPoP" : "Bearer") : "refresh_token",
      ...(status.jkt ? { cnf: { jkt: status.jkt } } : {}),
      team_id: status.teamId,
    },
    200,
    NO_STORE,
  );
}
