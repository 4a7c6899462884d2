/**
 * Reference "jwt-do-read": the floor of UserInfo and introspection when the holder's own Durable
 * Object answers the revocation and role check: one ES256 verification of the access token
 * (RFC 9068 §4), then one call to a SQLite-backed Durable Object doing one indexed read. The token
 * comes where the request it stands for carries it: a bearer header (UserInfo, RFC 6750 §2.1), or
 * the `token` field of a POSTed form body, read whole (introspection, RFC 7662 §2.1).
 * Nothing else: no D1, no client authentication (an isolate cache hit on the real path).
 */
import { readTokenForm, verifyAccessToken } from "../common/access-token";
import { type BenchGrants, benchGrants } from "../common/bench-grants";

export { BenchGrants } from "../common/bench-grants";

interface Env {
  GRANTS: DurableObjectNamespace<BenchGrants>;
}

const unauthorized = () =>
  new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });

export default {
  async fetch(request, env): Promise<Response> {
    // Readiness for bench/servers.mjs (a string test: parsing the URL would add to the floor).
    if (request.url.endsWith("/ready")) return new Response("ready");
    const token =
      request.method === "POST"
        ? (await readTokenForm(request)).get("token")
        : /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token) return unauthorized();
    let claims: { sub: string; jti: string };
    try {
      claims = await verifyAccessToken(token);
    } catch {
      return unauthorized();
    }
    const role = await benchGrants(env.GRANTS).isActive(claims.jti);
    if (!role) return unauthorized();
    return Response.json({ sub: claims.sub, role }, { headers: { "Cache-Control": "no-store" } });
  },
} satisfies ExportedHandler<Env>;
