/**
 * UserGrants: one SQLite-backed Durable Object per user (idFromName(userId)), the only place where a
 * code is redeemed or a refresh token rotated. It holds every token family of its user (a family is
 * one authorization: its code, then its chain of refresh tokens) and the user's access-token
 * revocations. It stores hashes only. Every transition is one RPC call whose reads and writes run
 * synchronously against `ctx.storage.sql` with no await in between, so each is atomic: nothing else
 * runs in this object while it executes.
 */
import { DurableObject } from "cloudflare:workers";

export interface FamilyGrant {
  familyId: string;
  clientId: string;
  teamId: string;
  scopes: string[];
  resource: string | null;
  nonce: string | null;
  /** Unix seconds of the sign-in behind this authorization. */
  authTime: number;
  redirectUri: string;
}

/**
 * Who authorized, as the authorization endpoint saw them: identity claims and the role ceiling the
 * code exchange uses, so it needs no D1 read (the code lives 60 s; refresh reads the role afresh).
 */
export interface HolderSnapshot {
  email: string | null;
  name: string | null;
  role: string;
  onCallRole: string;
}

export interface IssueCodeInput extends FamilyGrant {
  holder: HolderSnapshot;
  /** The authorization request named redirect_uri, so the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriRequired: boolean;
  codeHash: string;
  codeChallenge: string;
  expiresAt: number;
  now: number;
}

/** What the token request asks of the grant, checked before anything changes (RFC 8707 §2.2, RFC 6749 §6). */
export interface GrantRequest {
  /** The audience asked for with `resource`, resolved; undefined when none was sent. */
  requestedAudience?: string;
  /** The audience of a family bound to no resource. */
  defaultAudience: string;
}

export interface RedeemCodeInput extends GrantRequest {
  codeHash: string;
  clientId: string;
  /** The token request's redirect_uri; null when it sent none. */
  redirectUri: string | null;
  /** BASE64URL(SHA256(code_verifier)), computed by the caller (RFC 7636 §4.6). */
  verifierChallenge: string;
  refreshHash: string;
  refreshExpiresAt: number;
  now: number;
}

export interface RotateInput extends GrantRequest {
  /** A narrower scope for this access token; every one must have been granted (RFC 6749 §6). */
  requestedScopes: string[];
  /**
   * Scopes named through a meta scope (`ir.all`…): the granted ones among them are kept, the others
   * dropped, so a client resending its original scope never widens the grant. When nothing else is
   * requested, at least one must have been granted.
   */
  scopesWithinMeta: string[];
  tokenHash: string;
  clientId: string;
  /** SHA-256 of the successor, which the caller derives from the presented token (grant-tokens.ts). */
  successorHash: string;
  successorExpiresAt: number;
  graceMs: number;
  now: number;
}

/** A device authorization approved at /device: its family and device code (RFC 8628 §3.3). */
export interface IssueDeviceCodeInput extends Omit<FamilyGrant, "nonce" | "redirectUri"> {
  holder: HolderSnapshot;
  /** SHA-256 of the device code. */
  codeHash: string;
  expiresAt: number;
  now: number;
}

export type RedeemDeviceCodeInput = Omit<RedeemCodeInput, "redirectUri" | "verifierChallenge">;

/** Stands where a code row has its PKCE challenge; never a valid S256 challenge. */
const DEVICE_CODE_MARK = "device_code";

export type GrantFailure = {
  ok: false;
  /** The OAuth error code (RFC 6749 §5.2, RFC 8707 §2). */
  error: "invalid_grant" | "invalid_scope" | "invalid_target";
  description: string;
  /** Set when the failure revoked a family (code replay, refresh reuse). */
  revokedFamily?: { familyId: string; clientId: string; teamId: string; reason: string };
};

export type RedeemResult = { ok: true; grant: FamilyGrant; holder: HolderSnapshot } | GrantFailure;
/** `rotated: false` is a grace-window retry: the caller answers with the same derived successor. */
export type RotateResult = { ok: true; grant: FamilyGrant; rotated: boolean } | GrantFailure;

export interface AccessCheck {
  familyId?: string;
  jti: string;
  /** Unix seconds. */
  iat: number;
}

type Row = Record<string, SqlStorageValue>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS families (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, team_id TEXT NOT NULL, scopes TEXT NOT NULL,
  resource TEXT, nonce TEXT, auth_time INTEGER NOT NULL, redirect_uri TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER, revoked_reason TEXT);
CREATE INDEX IF NOT EXISTS families_client ON families (client_id);
CREATE TABLE IF NOT EXISTS codes (
  hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL, redeemed_at INTEGER, holder TEXT NOT NULL,
  redirect_uri_required INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  rotated_at INTEGER, successor_hash TEXT);
CREATE INDEX IF NOT EXISTS refresh_family ON refresh_tokens (family_id);
CREATE TABLE IF NOT EXISTS revoked_access_tokens (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS user_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/**
 * Changes to SCHEMA's tables once objects exist in a deployment, applied in order once per object;
 * the count done is `schema_version`. Append; never edit or reorder a statement that has shipped.
 */
const MIGRATIONS: readonly string[] = [];

/**
 * A code or refresh token (the named columns) with its family's columns, in one statement (each exec
 * is a storage call); no row when it does not exist or its family is revoked. Built once.
 */
function withLiveFamily(table: "codes" | "refresh_tokens", columns: string[]): string {
  return `SELECT ${columns.map((c) => `t.${c}`).join(", ")}, f.* FROM ${table} t
    JOIN families f ON f.id = t.family_id WHERE t.hash = ? AND f.revoked_at IS NULL`;
}
const LIVE_CODE = withLiveFamily("codes", [
  "code_challenge",
  "expires_at",
  "redeemed_at",
  "holder",
  "redirect_uri_required",
]);
const LIVE_REFRESH = withLiveFamily("refresh_tokens", ["expires_at", "rotated_at", "successor_hash"]);

/** Expired rows are purged this often (codes live 60 s, refresh tokens up to a year). */
const PURGE_INTERVAL_MS = 6 * 3600_000;

/** It reads no binding, so it needs no Env (and durable/ imports nothing from config.ts). */
export class UserGrants extends DurableObject<unknown> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.storage.transactionSync(() => {
      this.sql.exec(SCHEMA);
      const done = Number(this.one("SELECT value FROM user_state WHERE key = 'schema_version'")?.value ?? 0);
      if (done >= MIGRATIONS.length) return;
      for (const statement of MIGRATIONS.slice(done)) this.sql.exec(statement);
      this.sql.exec(
        `INSERT INTO user_state (key, value) VALUES ('schema_version', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        MIGRATIONS.length,
      );
    });
  }

  /** Starts a family with its authorization code (hash only). */
  async issueCode(input: IssueCodeInput): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO families (id, client_id, team_id, scopes, resource, nonce, auth_time, redirect_uri, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        input.familyId,
        input.clientId,
        input.teamId,
        JSON.stringify(input.scopes),
        input.resource,
        input.nonce,
        input.authTime,
        input.redirectUri,
        input.now,
      );
      this.sql.exec(
        `INSERT INTO codes (hash, family_id, code_challenge, expires_at, holder, redirect_uri_required)
         VALUES (?, ?, ?, ?, ?, ?)`,
        input.codeHash,
        input.familyId,
        input.codeChallenge,
        input.expiresAt,
        JSON.stringify(input.holder),
        input.redirectUriRequired ? 1 : 0,
      );
    });
    await this.schedulePurge();
  }

  /**
   * Redeems a code exactly once and stores the family's first refresh token. A second redemption
   * revokes every token issued from the first (RFC 6749 §4.1.2).
   */
  redeemCode(input: RedeemCodeInput): RedeemResult {
    return this.ctx.storage.transactionSync((): RedeemResult => {
      const code = this.one(LIVE_CODE, input.codeHash);
      if (!code) return fail("authorization code is invalid");
      const grant = toGrant(code);
      if (code.redeemed_at !== null) {
        return this.revokeFamilyFailure(grant, "code_replay", "authorization code was already used", input.now);
      }
      if (Number(code.expires_at) <= input.now) return fail("authorization code has expired");
      // RFC 6749 §4.1.3: bound to the client it was issued to; redirect_uri is required when the
      // authorization request had one, and when sent must be the one the code went to.
      if (grant.clientId !== input.clientId) return fail("authorization code was issued to another client");
      if (input.redirectUri === null && Number(code.redirect_uri_required) === 1) {
        return fail("redirect_uri is required: the authorization request had one (RFC 6749 §4.1.3)");
      }
      if (input.redirectUri !== null && input.redirectUri !== grant.redirectUri) {
        return fail("redirect_uri does not match the authorization request");
      }
      // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the stored code_challenge.
      if (input.verifierChallenge !== code.code_challenge) return fail("PKCE verification failed");
      const refused = refusedRequest(grant, input);
      if (refused) return refused;
      this.sql.exec("UPDATE codes SET redeemed_at = ? WHERE hash = ?", input.now, input.codeHash);
      this.sql.exec(
        "INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        input.refreshHash,
        grant.familyId,
        input.now,
        input.refreshExpiresAt,
      );
      return { ok: true, grant, holder: JSON.parse(String(code.holder)) as HolderSnapshot };
    });
  }

  /**
   * Rotates a refresh token (RFC 9700 §4.14.2). The first use stores the caller's successor; a retry
   * inside the grace window is answered with the same successor (the caller derives it again from
   * the presented token), so a lost response is harmless and concurrent refreshes never make two
   * live successors. A
   * use after the window, or of an already-superseded successor chain, revokes the family.
   */
  rotateRefresh(input: RotateInput): RotateResult {
    return this.ctx.storage.transactionSync((): RotateResult => {
      const token = this.one(LIVE_REFRESH, input.tokenHash);
      if (!token) return fail("refresh token is invalid");
      const grant = toGrant(token);
      if (grant.clientId !== input.clientId) {
        // RFC 6749 §6: bound to its client. Presented by another client: treat as theft.
        return this.revokeFamilyFailure(grant, "refresh_foreign_client", "refresh token is invalid", input.now);
      }
      if (Number(token.expires_at) <= input.now) return fail("refresh token has expired");
      // Refused before rotating: a bad scope or resource must not spend the client's token.
      const refused = refusedRequest(grant, input);
      if (refused) return refused;
      if (input.requestedScopes.some((s) => !grant.scopes.includes(s))) {
        return fail("scope exceeds what was granted (RFC 6749 §6)", "invalid_scope");
      }
      const withinMeta = input.scopesWithinMeta;
      if (
        input.requestedScopes.length === 0 &&
        withinMeta.length > 0 &&
        !withinMeta.some((s) => grant.scopes.includes(s))
      ) {
        return fail("the requested meta scope names nothing that was granted (RFC 6749 §6)", "invalid_scope");
      }
      if (token.rotated_at === null) {
        this.sql.exec(
          "UPDATE refresh_tokens SET rotated_at = ?, successor_hash = ? WHERE hash = ?",
          input.now,
          input.successorHash,
          input.tokenHash,
        );
        this.sql.exec(
          "INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
          input.successorHash,
          grant.familyId,
          input.now,
          input.successorExpiresAt,
        );
        return { ok: true, grant, rotated: true };
      }
      const successor = this.one("SELECT rotated_at FROM refresh_tokens WHERE hash = ?", token.successor_hash);
      const withinGrace = input.now - Number(token.rotated_at) <= input.graceMs;
      if (withinGrace && successor && successor.rotated_at === null) {
        // A derived successor is the one stored, unless the server key changed since (then refuse, keep the family).
        if (token.successor_hash !== input.successorHash) return fail("refresh token is invalid");
        return { ok: true, grant, rotated: false };
      }
      return this.revokeFamilyFailure(grant, "refresh_reuse", "refresh token was already used", input.now);
    });
  }

  /** Is an access token of this user still alive? One read, for userinfo and introspection. */
  checkAccess(check: AccessCheck): { active: boolean } {
    const revokedBefore = this.revokedBefore();
    if (check.iat * 1000 < revokedBefore) return { active: false };
    if (this.one("SELECT 1 AS x FROM revoked_access_tokens WHERE jti = ?", check.jti)) return { active: false };
    if (check.familyId) {
      const family = this.one("SELECT revoked_at FROM families WHERE id = ?", check.familyId);
      if (!family || family.revoked_at !== null) return { active: false };
    }
    return { active: true };
  }

  /** The family behind a refresh token, for introspection and revocation (no state change). */
  inspectRefresh(
    tokenHash: string,
    now: number,
  ): { grant: FamilyGrant; active: boolean; expiresAt: number; issuedAt: number } | null {
    const token = this.one("SELECT * FROM refresh_tokens WHERE hash = ?", tokenHash);
    if (!token) return null;
    const family = this.family(String(token.family_id));
    if (!family) return null;
    // revokeAllBefore marks every family revoked, so revoked_at alone says whether it still lives.
    const active = family.revoked_at === null && token.rotated_at === null && Number(token.expires_at) > now;
    return { grant: toGrant(family), active, expiresAt: Number(token.expires_at), issuedAt: Number(token.created_at) };
  }

  /**
   * When each client last used this user's tokens, Unix ms: the newest refresh token of its families
   * (one is made at every code redemption and every refresh), so the token path writes nothing extra.
   */
  lastUseByClient(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.sql.exec(
      `SELECT f.client_id, max(r.created_at) AS at FROM refresh_tokens r JOIN families f ON f.id = r.family_id
       GROUP BY f.client_id`,
    )) {
      out[String(row.client_id)] = Number(row.at);
    }
    return out;
  }

  /** Revokes the given families (or all of a client's, with `clientId`); returns what was revoked. */
  revokeFamilies(selector: { familyIds?: string[]; clientId?: string }, reason: string, now: number): string[] {
    return this.ctx.storage.transactionSync(() => {
      const ids = new Set<string>(selector.familyIds ?? []);
      if (selector.clientId) {
        for (const row of this.sql.exec(
          "SELECT id FROM families WHERE client_id = ? AND revoked_at IS NULL",
          selector.clientId,
        )) {
          ids.add(String(row.id));
        }
      }
      const revoked: string[] = [];
      for (const id of ids) {
        const result = this.sql.exec(
          "UPDATE families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
          now,
          reason,
          id,
        );
        if (result.rowsWritten > 0) revoked.push(id);
      }
      return revoked;
    });
  }

  /** RFC 7009: revoke one access token by its jti until it would have expired anyway (then purged). */
  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    this.sql.exec("INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)", jti, expiresAt);
    await this.schedulePurge();
  }

  /** Everything issued to this user before `instant` dies (revoking every token of a client-credentials app). */
  async revokeAllBefore(instant: number): Promise<void> {
    this.sql.exec(
      `INSERT INTO user_state (key, value) VALUES ('revoked_before', ?)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
      instant,
    );
    this.sql.exec(
      "UPDATE families SET revoked_at = ?, revoked_reason = 'revoke_all' WHERE revoked_at IS NULL",
      instant,
    );
    await this.schedulePurge();
  }

  // ---- Device authorization grant (RFC 8628) -------------------------------------------------
  // An approved device authorization is a family like a code flow's: the device code plays the
  // authorization code's part (a `codes` row under its hash, redeemed exactly once, a replay
  // revoking the family), so refresh, revocation, connected apps and the purge treat it alike. It
  // has no PKCE challenge and no redirect URI: the row carries DEVICE_CODE_MARK in their place,
  // which no S256 challenge can equal (those are 43 base64url characters).

  /**
   * Starts the family of an approved device authorization (hash of the device code only). False
   * when this device code already has a family here: two answers raced, the first one stands.
   */
  async issueDeviceCode(input: IssueDeviceCodeInput): Promise<boolean> {
    if (this.one("SELECT 1 AS x FROM codes WHERE hash = ?", input.codeHash)) return false;
    await this.issueCode({
      ...input,
      nonce: null,
      redirectUri: "",
      redirectUriRequired: false,
      codeChallenge: DEVICE_CODE_MARK,
    });
    return true;
  }

  /** The device code's one redemption (RFC 8628 §3.5 success), with the same guarantees as redeemCode. */
  redeemDeviceCode(input: RedeemDeviceCodeInput): RedeemResult {
    return this.redeemCode({ ...input, redirectUri: "", verifierChallenge: DEVICE_CODE_MARK });
  }

  // ---- End of the device authorization grant ---------------------------------------------------

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM codes WHERE expires_at < ?", now - 3600_000);
      this.sql.exec("DELETE FROM refresh_tokens WHERE expires_at < ?", now);
      this.sql.exec("DELETE FROM revoked_access_tokens WHERE expires_at < ?", now);
      this.sql.exec(
        `DELETE FROM families WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = families.id)
           AND NOT EXISTS (SELECT 1 FROM codes c WHERE c.family_id = families.id)`,
      );
    });
    // Families, and revocations of access tokens that are not yet expired (a service user has no families).
    const remaining = this.one(
      "SELECT (SELECT count(*) FROM families) + (SELECT count(*) FROM revoked_access_tokens) AS n",
    );
    if (remaining && Number(remaining.n) > 0) await this.ctx.storage.setAlarm(now + PURGE_INTERVAL_MS);
  }

  private async schedulePurge(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PURGE_INTERVAL_MS);
  }

  private revokedBefore(): number {
    const row = this.one("SELECT value FROM user_state WHERE key = 'revoked_before'");
    return row ? Number(row.value) : 0;
  }

  private family(id: string): Row | undefined {
    return this.one("SELECT * FROM families WHERE id = ?", id);
  }

  private one(query: string, ...bindings: unknown[]): Row | undefined {
    return this.sql.exec(query, ...bindings).toArray()[0] as Row | undefined;
  }

  private revokeFamilyFailure(grant: FamilyGrant, reason: string, description: string, now: number): GrantFailure {
    this.sql.exec(
      "UPDATE families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
      now,
      reason,
      grant.familyId,
    );
    return {
      ok: false,
      error: "invalid_grant",
      description,
      revokedFamily: { familyId: grant.familyId, clientId: grant.clientId, teamId: grant.teamId, reason },
    };
  }
}

function fail(description: string, error: GrantFailure["error"] = "invalid_grant"): GrantFailure {
  return { ok: false, error, description };
}

/** RFC 8707 §2.2: a resource named at the token endpoint must be the one the grant is for. */
function refusedRequest(grant: FamilyGrant, request: GrantRequest): GrantFailure | undefined {
  if (request.requestedAudience === undefined) return undefined;
  if (request.requestedAudience === (grant.resource ?? request.defaultAudience)) return undefined;
  return fail("resource was not part of the authorization (RFC 8707 §2.2)", "invalid_target");
}

function toGrant(row: Row): FamilyGrant {
  return {
    familyId: String(row.id),
    clientId: String(row.client_id),
    teamId: String(row.team_id),
    scopes: JSON.parse(String(row.scopes)) as string[],
    resource: row.resource === null ? null : String(row.resource),
    nonce: row.nonce === null ? null : String(row.nonce),
    authTime: Number(row.auth_time),
    redirectUri: String(row.redirect_uri),
  };
}
