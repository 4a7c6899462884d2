/**
 * Reference "d1-do-sign": the floor cost of a token request in the design where each call also reads
 * D1. Per request, in order as on that path: one D1 point read (the client record), one call to a
 * SQLite-backed Durable Object doing one small write (a code redemption or refresh rotation), one
 * ES256 signature. Like every token request, it arrives with a form body, which it reads first.
 */
import { readTokenForm, signAccessToken, tokenResponse } from "../common/access-token";
import { type BenchGrants, benchGrants } from "../common/bench-grants";

export { BenchGrants } from "../common/bench-grants";

interface Env {
  DB: D1Database;
  GRANTS: DurableObjectNamespace<BenchGrants>;
}

export default {
  async fetch(request, env): Promise<Response> {
    const form = await readTokenForm(request);
    const client = await env.DB.prepare("SELECT id, scopes FROM clients WHERE id = ?")
      .bind(form.get("client_id") ?? "bench-client")
      .first<{ id: string; scopes: string }>();
    if (!client) return Response.json({ error: "invalid_client" }, { status: 401 });
    const jti = crypto.randomUUID();
    await benchGrants(env.GRANTS).recordIssue(jti, client.id);
    return tokenResponse(await signAccessToken(client.id, jti));
  },
} satisfies ExportedHandler<Env>;
