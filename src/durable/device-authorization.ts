/**
 * DeviceAuthorization: one SQLite-backed Durable Object per user code (idFromName of the normalized
 * code), holding one pending device authorization (RFC 8628 §3.1–3.5) from the device's request
 * until it expires. The /device page reaches it by the code the person types; the token endpoint
 * reaches it by the object id carried inside the device code. Every method is one synchronous
 * transaction, so two approvals, or an approval and a poll, can never interleave.
 *
 * After approval the token family lives in the approver's UserGrants object like any code flow's
 * family (the device code plays the authorization code's part there, redeemed exactly once); this
 * object then only says where that family is.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";

export interface PendingDeviceAuthorization {
  /** SHA-256 of the device code (the code itself is never stored). */
  deviceCodeHash: string;
  clientId: string;
  scopes: string[];
  /** The resolved audience, or null for the default one (RFC 8707). */
  resource: string | null;
  expiresAt: number;
  /** Seconds between polls (RFC 8628 §3.2); raised by 5 on every slow_down (§3.5). */
  interval: number;
}

export type DeviceStatus = "pending" | "approved" | "denied";

/** What the /device page needs: the consent screen's content, and the hash to start the family under. */
export interface DeviceAuthorizationView extends PendingDeviceAuthorization {
  status: DeviceStatus;
}

/** Where the approved authorization's family lives (its holder's UserGrants object). */
export interface DeviceApproval {
  userId: string;
  familyId: string;
  teamId: string;
}

/** RFC 8628 §3.5 outcomes of one poll. `approved` hands the route to the family. */
export type PollResult =
  | { outcome: "invalid" | "expired_token" | "access_denied" | "authorization_pending" }
  | { outcome: "slow_down"; interval: number }
  | { outcome: "approved"; approval: DeviceApproval };

export type DecisionResult = { ok: true } | { ok: false; reason: "unknown" | "expired" | "used" };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS device_authorization (
  id INTEGER PRIMARY KEY CHECK (id = 1), device_code_hash TEXT NOT NULL, client_id TEXT NOT NULL,
  scopes TEXT NOT NULL, resource TEXT, expires_at INTEGER NOT NULL, interval_seconds INTEGER NOT NULL,
  last_poll_at INTEGER, status TEXT NOT NULL, approval TEXT);
`;

type Row = Record<string, SqlStorageValue>;

export class DeviceAuthorization extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
  }

  /**
   * Stores a new pending authorization under this user code. False when the code is still taken by
   * a live one (the caller draws another code): a user code names one request at a time.
   */
  async start(input: PendingDeviceAuthorization, now: number): Promise<boolean> {
    const started = this.ctx.storage.transactionSync(() => {
      this.sql.exec(SCHEMA);
      const current = this.row();
      if (current && Number(current.expires_at) > now) return false;
      this.sql.exec("DELETE FROM device_authorization");
      this.sql.exec(
        `INSERT INTO device_authorization (id, device_code_hash, client_id, scopes, resource, expires_at,
           interval_seconds, status) VALUES (1, ?, ?, ?, ?, ?, ?, 'pending')`,
        input.deviceCodeHash,
        input.clientId,
        JSON.stringify(input.scopes),
        input.resource,
        input.expiresAt,
        input.interval,
      );
      return true;
    });
    // Nothing here outlives the code: the alarm deletes it after expiry.
    if (started) await this.ctx.storage.setAlarm(input.expiresAt + 60_000);
    return started;
  }

  /** The authorization behind the code the person typed, or null when there is none (or it expired). */
  describe(now: number): DeviceAuthorizationView | null {
    const row = this.row();
    if (!row || Number(row.expires_at) <= now) return null;
    return {
      deviceCodeHash: String(row.device_code_hash),
      clientId: String(row.client_id),
      scopes: JSON.parse(String(row.scopes)) as string[],
      resource: row.resource === null ? null : String(row.resource),
      expiresAt: Number(row.expires_at),
      interval: Number(row.interval_seconds),
      status: String(row.status) as DeviceStatus,
    };
  }

  /**
   * The person's decision, exactly once: only the pending, unexpired authorization the person was
   * shown changes. The caller has already put the family into the holder's UserGrants object, so a poll
   * that sees "approved" always finds it.
   */
  decide(deviceCodeHash: string, decision: { approve: DeviceApproval } | { deny: true }, now: number): DecisionResult {
    return this.ctx.storage.transactionSync((): DecisionResult => {
      const row = this.row();
      // The hash names the request the person saw: a new request under a reused code is another one.
      if (!row || row.device_code_hash !== deviceCodeHash) return { ok: false, reason: "unknown" };
      if (Number(row.expires_at) <= now) return { ok: false, reason: "expired" };
      if (row.status !== "pending") return { ok: false, reason: "used" };
      if ("approve" in decision) {
        this.sql.exec(
          "UPDATE device_authorization SET status = 'approved', approval = ? WHERE id = 1",
          JSON.stringify(decision.approve),
        );
      } else {
        this.sql.exec("UPDATE device_authorization SET status = 'denied' WHERE id = 1");
      }
      return { ok: true };
    });
  }

  /**
   * One poll of the token endpoint (RFC 8628 §3.4–3.5). A pending authorization polled again sooner
   * than its interval answers slow_down and raises the interval by 5 s "for this and all subsequent
   * requests"; every poll counts as the last one. Redemption itself happens in UserGrants.
   */
  poll(deviceCodeHash: string, clientId: string, now: number): PollResult {
    return this.ctx.storage.transactionSync((): PollResult => {
      const row = this.row();
      // RFC 8628 §3.5 names no error for an unknown code: RFC 6749 §5.2 invalid_grant.
      if (!row || row.device_code_hash !== deviceCodeHash || String(row.client_id) !== clientId) {
        return { outcome: "invalid" };
      }
      if (Number(row.expires_at) <= now) return { outcome: "expired_token" };
      if (row.status === "denied") return { outcome: "access_denied" };
      if (row.status === "approved") return { outcome: "approved", approval: JSON.parse(String(row.approval)) };
      const interval = Number(row.interval_seconds);
      const last = row.last_poll_at === null ? null : Number(row.last_poll_at);
      if (last !== null && now - last < interval * 1000) {
        this.sql.exec(
          "UPDATE device_authorization SET interval_seconds = ?, last_poll_at = ? WHERE id = 1",
          interval + 5,
          now,
        );
        return { outcome: "slow_down", interval: interval + 5 };
      }
      this.sql.exec("UPDATE device_authorization SET last_poll_at = ? WHERE id = 1", now);
      return { outcome: "authorization_pending" };
    });
  }

  override async alarm(): Promise<void> {
    const row = this.row();
    if (!row) return;
    const expiresAt = Number(row.expires_at);
    // Never before expiry (a request started again under this code moved it): wait for that one.
    if (expiresAt > Date.now()) await this.ctx.storage.setAlarm(expiresAt + 60_000);
    else await this.ctx.storage.deleteAll();
  }

  /**
   * The one request, if any. The table is created only by `start`: a mistyped or guessed code opens
   * an object that has never started anything, and reading it must not leave storage behind.
   */
  private row(): Row | undefined {
    const exists = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'device_authorization'");
    if (exists.toArray().length === 0) return undefined;
    return this.sql.exec("SELECT * FROM device_authorization WHERE id = 1").toArray()[0] as Row | undefined;
  }
}
