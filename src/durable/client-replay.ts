/**
 * ClientReplay: one SQLite-backed Durable Object per client (idFromName(clientId)) remembering the
 * single-use identifiers that belong to a client rather than to a user: the `jti` of its
 * private_key_jwt assertions (RFC 7523 §3 point 7) and of DPoP proofs sent with client_credentials
 * (RFC 9449 §11.1), where no user's UserGrants object is involved. One object per client: atomic
 * (a spend is one statement in a single-threaded object) with no global bottleneck, since one
 * client's traffic never waits for another's (docs/security.md).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";

const SCHEMA = "CREATE TABLE IF NOT EXISTS seen_jtis (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)";
const PURGE_INTERVAL_MS = 3600_000;

export class ClientReplay extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Records `key` until `expiresAt` (Unix ms). False when it was already recorded and has not expired. */
  async spend(key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    const result = this.sql.exec(
      `INSERT INTO seen_jtis (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_jtis.expires_at < ?`,
      key,
      expiresAt,
      now,
    );
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + PURGE_INTERVAL_MS);
    return result.rowsWritten > 0;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM seen_jtis WHERE expires_at < ?", now);
    const left = this.sql.exec("SELECT count(*) AS n FROM seen_jtis").one();
    if (Number(left.n) > 0) await this.ctx.storage.setAlarm(now + PURGE_INTERVAL_MS);
  }
}
