/**
 * Reference "d1-do-sign": the floor cost of a token request in this design. Per request, in order as
 * on the real path: one D1 point read (the client record), one call to a SQLite-backed Durable Object
 * doing one small write (a code redemption or refresh rotation), one ES256 signature. Like every token
 * request, it arrives with a form body, which it reads first.
 */
import { DurableObject } from "cloudflare:workers";
import { readTokenForm, signAccessToken, tokenResponse } from "../shared/access-token";

interface Env {
  DB: D1Database;
  GRANTS: DurableObjectNamespace<BenchGrants>;
}

/** Stands in for UserGrants: one object (one user), one INSERT per call, in one implicit transaction. */
export class BenchGrants extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS issued (jti TEXT PRIMARY KEY, client_id TEXT, at INTEGER)");
  }

  recordIssue(jti: string, clientId: string): void {
    this.ctx.storage.sql.exec("INSERT INTO issued (jti, client_id, at) VALUES (?, ?, ?)", jti, clientId, Date.now());
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    const form = await readTokenForm(request);
    const client = await env.DB.prepare("SELECT id, scopes FROM clients WHERE id = ?")
      .bind(form.get("client_id") ?? "bench-client")
      .first<{ id: string; scopes: string }>();
    if (!client) return Response.json({ error: "invalid_client" }, { status: 401 });
    const jti = crypto.randomUUID();
    await env.GRANTS.get(env.GRANTS.idFromName("usr_bench")).recordIssue(jti, client.id);
    return tokenResponse(await signAccessToken(client.id, jti));
  },
} satisfies ExportedHandler<Env>;
