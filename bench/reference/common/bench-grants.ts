/**
 * Stands in for edge-oidc's UserGrants, the holder's own SQLite-backed Durable Object: one object
 * (one user), each call one small statement in one implicit transaction. `recordIssue` is the write
 * of a code redemption, a refresh rotation or a revocation; `isActive` the read a token check makes
 * (is this token revoked, what is the holder's role).
 */
import { DurableObject } from "cloudflare:workers";

export class BenchGrants extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS issued (jti TEXT PRIMARY KEY, client_id TEXT, at INTEGER)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS holder (id TEXT PRIMARY KEY, role TEXT NOT NULL)");
    ctx.storage.sql.exec("INSERT OR IGNORE INTO holder (id, role) VALUES ('usr_bench', 'member')");
  }

  recordIssue(jti: string, clientId: string): void {
    this.ctx.storage.sql.exec("INSERT INTO issued (jti, client_id, at) VALUES (?, ?, ?)", jti, clientId, Date.now());
  }

  /** The holder's role, or null once the token `jti` was revoked (one indexed read). */
  isActive(jti: string): string | null {
    const row = this.ctx.storage.sql
      .exec<{ role: string; revoked: number }>(
        "SELECT role, EXISTS (SELECT 1 FROM issued WHERE jti = ?) AS revoked FROM holder WHERE id = 'usr_bench'",
        jti,
      )
      .toArray()[0];
    return row && !row.revoked ? row.role : null;
  }
}

/** The bench user's object: every reference request goes to the same one, as one user's would. */
export function benchGrants(ns: DurableObjectNamespace<BenchGrants>): DurableObjectStub<BenchGrants> {
  return ns.get(ns.idFromName("usr_bench"));
}
