/**
 * Reference "do-sign": the floor of a code exchange or refresh when the holder's own Durable Object
 * answers everything the grant needs (no D1 read): one call to a SQLite-backed Durable Object doing
 * one small write (the redemption or rotation), then one ES256 signature. It reads the request's form
 * body first, as every token request must; the client record is an isolate cache hit on the real path.
 */
import { readTokenForm, signAccessToken, tokenResponse } from "../common/access-token";
import { type BenchGrants, benchGrants } from "../common/bench-grants";

export { BenchGrants } from "../common/bench-grants";

interface Env {
  GRANTS: DurableObjectNamespace<BenchGrants>;
}

export default {
  async fetch(request, env): Promise<Response> {
    const clientId = (await readTokenForm(request)).get("client_id") ?? "bench-client";
    const jti = crypto.randomUUID();
    await benchGrants(env.GRANTS).recordIssue(jti, clientId);
    return tokenResponse(await signAccessToken(clientId, jti));
  },
} satisfies ExportedHandler<Env>;
