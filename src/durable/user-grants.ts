/**
 * UserGrants: one SQLite-backed Durable Object per person (idFromName(userId)), the only place where
 * a code is redeemed or a refresh token rotated. It holds every token family of its user (a family is
 * one authorization: its code, then its chain of refresh tokens) and the user's access-token
 * revocations. A service user (client_credentials: no families) has 16 of them, each checking the
 * access tokens whose jti falls in it (durable/stub.ts). It stores hashes only. Every transition is
 * one RPC call whose reads and writes run synchronously against `ctx.storage.sql` with no await in
 * between, so each is atomic: nothing else runs in this object while it executes.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { dbOf } from "../store/db";
import { markFamiliesRevoked } from "../store/token-families";
import { holderRecord } from "../store/users";

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

/** The holder's identity claims and roles in one team, as the holder section keeps them. */
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
  /** `users.membership_version` read together with `holder`: fills the holder section if it is newer. */
  holderVersion: number;
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
  /** The client's "every token revoked before" stamp (Unix ms): a family created before it is dead. */
  clientRevokedBefore: number;
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
  /** `users.membership_version` read together with `holder` (see IssueCodeInput). */
  holderVersion: number;
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

/** `holder`: the user's current membership in the grant's team (the holder section below). */
export type RedeemResult = { ok: true; grant: FamilyGrant; holder: HolderSnapshot } | GrantFailure;
/** `rotated: false` is a grace-window retry: the caller answers with the same derived successor. */
export type RotateResult = { ok: true; grant: FamilyGrant; holder: HolderSnapshot; rotated: boolean } | GrantFailure;

export interface AccessCheck {
  familyId?: string;
  jti: string;
  /** Unix seconds. */
  iat: number;
  /** The token's team: the holder's membership in it is returned (and required). */
  teamId: string;
}

/** What D1 (the record) says about the user, with the version it had when read (docs/architecture.md). */
export interface HolderRecord {
  version: number;
  email: string | null;
  name: string | null;
  teams: { teamId: string; role: string; onCallRole: string }[];
}

type Row = Record<string, SqlStorageValue>;

/**
 * DPoP (RFC 9449) tables: seen_proof_jtis holds proofs already used with this user's tokens (key =
 * jkt and jti) until the proof's iat window has closed; dpop_bound_families the families whose
 * refresh tokens only a proof with that key may use (public clients, RFC 9449 §5).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS families (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, team_id TEXT NOT NULL, scopes TEXT NOT NULL,
  resource TEXT, nonce TEXT, auth_time INTEGER NOT NULL, redirect_uri TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER, revoked_reason TEXT);
CREATE INDEX IF NOT EXISTS families_client ON families (client_id);
CREATE TABLE IF NOT EXISTS codes (
  hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL, redeemed_at INTEGER, redirect_uri_required INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  rotated_at INTEGER, successor_hash TEXT);
CREATE INDEX IF NOT EXISTS refresh_family ON refresh_tokens (family_id);
CREATE TABLE IF NOT EXISTS revoked_access_tokens (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS user_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen_proof_jtis (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dpop_bound_families (family_id TEXT PRIMARY KEY, jkt TEXT NOT NULL);
`;

/**
 * Changes to SCHEMA's tables once objects exist in a deployment, applied in order once per object;
 * the count done is `schema_version`. Append; never edit or reorder a statement that has shipped.
 */
const MIGRATIONS: readonly string[] = [];

/**
 * The holder section (see the methods under "Holder" below): one row per team the user is or was in.
 * `removed` = 1 is a tombstone: it keeps the version of the removal, so an older fill cannot revive it.
 */
const HOLDER_SCHEMA = `
CREATE TABLE IF NOT EXISTS holder_teams (
  team_id TEXT PRIMARY KEY, role TEXT NOT NULL, on_call_role TEXT NOT NULL, email TEXT, name TEXT,
  version INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS holder_pending (user_id TEXT PRIMARY KEY, writers INTEGER NOT NULL, due_at INTEGER NOT NULL);
`;
/** A writer that announced a change and never published it (it died): D1 is copied in this long after. */
const HOLDER_RECONCILE_MS = 30_000;

/**
 * The holder's current membership in a row's team, as aliased columns of `holder_teams h`; every
 * column is NULL when the holder is not (or no longer) in the team. Joined onto the token reads
 * below, so a grant and the holder's role come from one statement.
 */
const HOLDER_COLUMNS =
  "h.email AS holder_email, h.name AS holder_name, h.role AS holder_role, h.on_call_role AS holder_on_call_role";
const JOIN_HOLDER = "LEFT JOIN holder_teams h ON h.team_id = f.team_id AND h.removed = 0";

/**
 * The statements of the hot path, built once; each `exec` is a call into storage, so each reads all
 * it needs at once. A code with its live family and the holder (no row when the code does not
 * exist or its family is revoked):
 */
const LIVE_CODE = `SELECT t.code_challenge, t.expires_at, t.redeemed_at, t.redirect_uri_required, f.*, ${HOLDER_COLUMNS}
  FROM codes t JOIN families f ON f.id = t.family_id ${JOIN_HOLDER}
  WHERE t.hash = ? AND f.revoked_at IS NULL`;
/**
 * A refresh token with its family (revoked or not: the DPoP binding is checked first), the key the
 * family is bound to (RFC 9449 §5) and the holder; the one read of rotation, introspection and
 * revocation of a refresh token:
 */
const REFRESH_WITH_BINDING = `SELECT t.expires_at, t.rotated_at, t.successor_hash, t.created_at AS token_created_at,
  f.*, b.jkt AS bound_jkt, ${HOLDER_COLUMNS}
  FROM refresh_tokens t JOIN families f ON f.id = t.family_id
  LEFT JOIN dpop_bound_families b ON b.family_id = t.family_id ${JOIN_HOLDER}
  WHERE t.hash = ?`;
/**
 * Everything an access-token check needs, whatever the answer: the holder's "revoke everything"
 * stamp, whether the jti was revoked, whether the family lives (NULL: no such family, or none
 * asked) and the holder in the token's team.
 */
const ACCESS_CHECK = `SELECT
  (SELECT value FROM user_state WHERE key = 'revoked_before') AS revoked_before,
  EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?) AS jti_revoked,
  (SELECT revoked_at IS NULL FROM families WHERE id = ?) AS family_live,
  ${HOLDER_COLUMNS}
  FROM (SELECT 1) LEFT JOIN holder_teams h ON h.team_id = ? AND h.removed = 0`;

/** Expired rows are purged this often (codes live 60 s, refresh tokens up to a year). */
const PURGE_INTERVAL_MS = 6 * 3600_000;

/** Its one binding read is D1, by the holder section's alarm (a change announced and never published). */
export class UserGrants extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.storage.transactionSync(() => {
      this.sql.exec(SCHEMA);
      this.sql.exec(HOLDER_SCHEMA);
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
        `INSERT INTO codes (hash, family_id, code_challenge, expires_at, redirect_uri_required)
         VALUES (?, ?, ?, ?, ?)`,
        input.codeHash,
        input.familyId,
        input.codeChallenge,
        input.expiresAt,
        input.redirectUriRequired ? 1 : 0,
      );
      this.fillHolder(input.teamId, input.holder, input.holderVersion);
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
      if (predatesClientRevocation(code, input)) return fail("authorization code is invalid");
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
      const holder = holderOf(code);
      if (!holder) return fail("the user is no longer a member of the team");
      this.sql.exec("UPDATE codes SET redeemed_at = ? WHERE hash = ?", input.now, input.codeHash);
      this.sql.exec(
        "INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        input.refreshHash,
        grant.familyId,
        input.now,
        input.refreshExpiresAt,
      );
      return { ok: true, grant, holder };
    });
  }

  /**
   * Rotates a refresh token (RFC 9700 §4.14.2). The first use stores the caller's successor; a retry
   * inside the grace window is answered with the same successor (the caller derives it again from
   * the presented token), so a lost response is harmless and concurrent refreshes never make two
   * live successors. A use after the window, or of an already-superseded successor chain, revokes
   * the family. `token` is the REFRESH_WITH_BINDING row; rotateRefreshWithProof reads it and runs
   * this inside its transaction.
   */
  private rotateRefresh(token: Row | undefined, input: RotateInput): RotateResult {
    if (!token || token.revoked_at !== null) return fail("refresh token is invalid");
    const grant = toGrant(token);
    if (grant.clientId !== input.clientId) {
      // RFC 6749 §6: bound to its client. Presented by another client: treat as theft.
      return this.revokeFamilyFailure(grant, "refresh_foreign_client", "refresh token is invalid", input.now);
    }
    if (Number(token.expires_at) <= input.now) return fail("refresh token has expired");
    if (predatesClientRevocation(token, input)) return fail("refresh token is invalid");
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
    const holder = holderOf(token);
    if (!holder) return fail("the user is no longer a member of the team");
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
      return { ok: true, grant, holder, rotated: true };
    }
    const successor = this.one("SELECT rotated_at FROM refresh_tokens WHERE hash = ?", token.successor_hash);
    const withinGrace = input.now - Number(token.rotated_at) <= input.graceMs;
    if (withinGrace && successor && successor.rotated_at === null) {
      // A derived successor is the one stored, unless the server key changed since (then refuse, keep the family).
      if (token.successor_hash !== input.successorHash) return fail("refresh token is invalid");
      return { ok: true, grant, holder, rotated: false };
    }
    return this.revokeFamilyFailure(grant, "refresh_reuse", "refresh token was already used", input.now);
  }

  /**
   * Is an access token of this user still alive, and who holds it now? The one call userinfo and
   * introspection make: revocation and the holder's current membership in the token's team.
   */
  checkAccess(check: AccessCheck): { active: false } | { active: true; holder: HolderSnapshot } {
    const row = this.one(ACCESS_CHECK, check.jti, check.familyId ?? null, check.teamId);
    if (!row) return { active: false };
    if (check.iat * 1000 < Number(row.revoked_before ?? 0)) return { active: false };
    if (row.jti_revoked) return { active: false };
    // A family named by the token must exist and live (family_live is NULL when it does not exist).
    if (check.familyId && row.family_live !== 1) return { active: false };
    const holder = holderOf(row);
    return holder ? { active: true, holder } : { active: false };
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

  /**
   * RFC 7009 §2.1: revoking a refresh token ends its family, in one call. Null when the token is
   * unknown here or belongs to another client (the caller answers 200 either way, §2.2).
   */
  revokeRefresh(
    tokenHash: string,
    clientId: string,
    now: number,
    proof?: ProofUse & { jkt: string },
  ): { familyId: string; revoked: boolean } | { replayed: true } | null {
    return this.ctx.storage.transactionSync(() => {
      const token = this.one(REFRESH_WITH_BINDING, tokenHash);
      if (!token || String(token.client_id) !== clientId) return null;
      const familyId = String(token.id);
      if (proof) {
        // RFC 9449 §11.1: the proof is spent here; one by another key than the family's leaves it alone.
        if (!this.spendProofJti(proof)) return { replayed: true as const };
        const bound = boundKey(token);
        if (bound !== null && bound !== proof.jkt) return { familyId, revoked: false };
      }
      const result = this.sql.exec(
        "UPDATE families SET revoked_at = ?, revoked_reason = 'revoked' WHERE id = ? AND revoked_at IS NULL",
        now,
        familyId,
      );
      return { familyId, revoked: result.rowsWritten > 0 };
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

  // ---- Holder: the user's current team memberships, a copy of D1 kept in step by every writer ----
  // (docs/architecture.md "The holder's state in the holder's object"). Each row carries the
  // `users.membership_version` it was read at; a row is replaced only by one at least as new, so a
  // slow or stale writer can never undo a newer change.

  /**
   * Replaces the holder section with what D1 says (every membership writer calls this after its D1
   * transaction, before it answers). A team the record no longer lists is tombstoned and every live
   * family in it revoked, in the same transaction; returns those families for the D1 index.
   */
  publishHolder(
    record: HolderRecord,
    now: number,
    options: { settles?: boolean } = {},
  ): { applied: boolean; revokedFamilies: string[] } {
    return this.ctx.storage.transactionSync(() => {
      // The announcing writer got through: one fewer change for the alarm to catch up on.
      if (options.settles) this.sql.exec("UPDATE holder_pending SET writers = max(writers - 1, 0)");
      const newest = this.one("SELECT max(version) AS v FROM holder_teams");
      if (newest?.v !== null && newest?.v !== undefined && Number(newest.v) > record.version) {
        return { applied: false, revokedFamilies: [] };
      }
      for (const team of record.teams) {
        this.writeHolderRow(team.teamId, { ...record, role: team.role, onCallRole: team.onCallRole }, record.version);
      }
      const listed = new Set(record.teams.map((t) => t.teamId));
      const revokedFamilies: string[] = [];
      for (const row of this.sql.exec("SELECT team_id FROM holder_teams WHERE removed = 0").toArray()) {
        const teamId = String(row.team_id);
        if (listed.has(teamId)) continue;
        this.sql.exec("UPDATE holder_teams SET removed = 1, version = ? WHERE team_id = ?", record.version, teamId);
        for (const family of this.sql.exec(
          `UPDATE families SET revoked_at = ?, revoked_reason = 'member_removed'
           WHERE team_id = ? AND revoked_at IS NULL RETURNING id`,
          now,
          teamId,
        )) {
          revokedFamilies.push(String(family.id));
        }
      }
      return { applied: true, revokedFamilies };
    });
  }

  /**
   * A writer announces a membership change before it makes it in D1. If it then publishes (with
   * `settles`), nothing more happens; if it dies between its D1 commit and its publish, the alarm
   * copies D1 into this section within HOLDER_RECONCILE_MS, so a committed change cannot stay unseen.
   */
  async expectHolderChange(userId: string): Promise<void> {
    const due = Date.now() + HOLDER_RECONCILE_MS;
    this.sql.exec(
      `INSERT INTO holder_pending (user_id, writers, due_at) VALUES (?, 1, ?)
       ON CONFLICT (user_id) DO UPDATE SET writers = writers + 1, due_at = max(due_at, excluded.due_at)`,
      userId,
      due,
    );
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > due) await this.ctx.storage.setAlarm(due);
  }

  /** From alarm(): a change announced and not published by its due time is copied from D1 (the record). */
  private async reconcileHolder(now: number): Promise<void> {
    const pending = this.one("SELECT user_id, writers, due_at FROM holder_pending WHERE writers > 0");
    if (!pending) return;
    const due = Number(pending.due_at);
    if (due > now) {
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > due) await this.ctx.storage.setAlarm(due);
      return;
    }
    const userId = String(pending.user_id);
    const db = dbOf(this.env.DB);
    const { revokedFamilies } = this.publishHolder(await holderRecord(db, userId), now);
    this.sql.exec("UPDATE holder_pending SET writers = 0 WHERE user_id = ?", userId);
    await markFamiliesRevoked(db, revokedFamilies, now);
  }

  /**
   * First use: /oauth/authorize read the membership from D1 (with its version) and the code carries
   * it. It fills the row when the object has none, or only an older one; a newer change (or a
   * removal) already published wins.
   */
  private fillHolder(teamId: string, holder: HolderSnapshot, version: number): void {
    this.writeHolderRow(teamId, holder, version);
  }

  private writeHolderRow(teamId: string, holder: HolderSnapshot, version: number): void {
    this.sql.exec(
      `INSERT INTO holder_teams (team_id, role, on_call_role, email, name, version, removed)
       VALUES (?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT (team_id) DO UPDATE SET role = excluded.role, on_call_role = excluded.on_call_role,
         email = excluded.email, name = excluded.name, version = excluded.version, removed = 0
       WHERE excluded.version >= holder_teams.version`,
      teamId,
      holder.role,
      holder.onCallRole,
      holder.email,
      holder.name,
      version,
    );
  }

  // ---- end of the holder section ----
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

  /** redeemDeviceCode with a DPoP proof (RFC 9449 §5), spent in the same transaction as for codes. */
  redeemDeviceCodeWithProof(input: RedeemDeviceCodeInput, proof: ProofBinding): RedeemResult | ProofFailure {
    return this.redeemCodeWithProof({ ...input, redirectUri: "", verifierChallenge: DEVICE_CODE_MARK }, proof);
  }

  // ---- End of the device authorization grant ---------------------------------------------------

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM codes WHERE expires_at < ?", now - 3600_000);
      this.sql.exec("DELETE FROM refresh_tokens WHERE expires_at < ?", now);
      this.sql.exec("DELETE FROM revoked_access_tokens WHERE expires_at < ?", now);
      this.sql.exec("DELETE FROM seen_proof_jtis WHERE expires_at < ?", now);
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
    await this.reconcileHolder(now);
  }

  // ---- DPoP (RFC 9449): proof replay and refresh-token binding ------------------------------------
  // Every proof that reaches this object is spent here, inside the same call and storage
  // transaction as the transition it authorizes: no extra round trip, no global ledger, and two
  // requests with one proof can never both pass (docs/security.md, "DPoP proof replay").

  /** A code redemption with a DPoP proof: the proof is spent, then (for public clients) the family bound. */
  redeemCodeWithProof(input: RedeemCodeInput, proof: ProofBinding): RedeemResult | ProofFailure {
    return this.ctx.storage.transactionSync((): RedeemResult | ProofFailure => {
      if (!this.spendProofJti(proof)) return proofReplayed();
      const result = this.redeemCode(input);
      if (result.ok && proof.bindRefresh) {
        this.sql.exec(
          "INSERT OR REPLACE INTO dpop_bound_families (family_id, jkt) VALUES (?, ?)",
          result.grant.familyId,
          proof.jkt,
        );
      }
      return result;
    });
  }

  /**
   * Every refresh goes through here: a family bound to a DPoP key (RFC 9449 §5) rotates only for a
   * proof signed with that key, and the proof is spent before the rotation. Refused before anything
   * changes, so a thief without the key cannot spend the client's token.
   */
  rotateRefreshWithProof(input: RotateInput, proof: ProofBinding | null): RotateResult | ProofFailure {
    return this.ctx.storage.transactionSync((): RotateResult | ProofFailure => {
      // One read: the token, its family, the family's DPoP key and the holder.
      const token = this.one(REFRESH_WITH_BINDING, input.tokenHash);
      const bound = token ? boundKey(token) : null;
      if (bound !== null && proof === null) {
        return {
          ok: false,
          error: "invalid_dpop_proof",
          description: "this refresh token is bound to a DPoP key: send a proof signed with it (RFC 9449 §5)",
        };
      }
      if (bound !== null && proof?.jkt !== bound) {
        return fail("this refresh token is bound to another DPoP key (RFC 9449 §5)");
      }
      if (proof !== null && !this.spendProofJti(proof)) return proofReplayed();
      return this.rotateRefresh(token, input);
    });
  }

  /** checkAccess for a request that carries a DPoP proof (UserInfo): the proof is spent in the same call. */
  checkAccessWithProof(
    check: AccessCheck,
    proof: ProofUse,
  ): ReturnType<UserGrants["checkAccess"]> | { active: false; replayed: true } {
    return this.ctx.storage.transactionSync(() => {
      if (!this.spendProofJti(proof)) return { active: false, replayed: true as const };
      return this.checkAccess(check);
    });
  }

  /**
   * What introspection says of a refresh token (no state change): its family, state, holder and
   * DPoP key (RFC 9449 §5), from the rotation's one read.
   */
  inspectRefresh(tokenHash: string, now: number): RefreshStatus | null {
    return refreshStatus(this.one(REFRESH_WITH_BINDING, tokenHash), now);
  }

  /** inspectRefresh for a request that carries a DPoP proof (introspection): spent in the same call. */
  inspectRefreshWithProof(tokenHash: string, now: number, proof: ProofUse): RefreshStatus | null | { replayed: true } {
    return this.ctx.storage.transactionSync(() => {
      if (!this.spendProofJti(proof)) return { replayed: true as const };
      return this.inspectRefresh(tokenHash, now);
    });
  }

  /** Spends a proof seen at an endpoint that changes nothing else here (revocation). False: seen before. */
  spendProof(proof: ProofUse): boolean {
    return this.spendProofJti(proof);
  }

  private spendProofJti(proof: ProofUse): boolean {
    // An expired entry may be taken again: a proof that old fails the iat window anyway.
    const result = this.sql.exec(
      `INSERT INTO seen_proof_jtis (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_proof_jtis.expires_at < ?`,
      proof.key,
      proof.expiresAt,
      Date.now(),
    );
    return result.rowsWritten > 0;
  }

  // ---- end of DPoP --------------------------------------------------------------------------------

  private async schedulePurge(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PURGE_INTERVAL_MS);
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

/**
 * "Revoke every token of this app" stamps the client and revokes the families the D1 index lists;
 * the index row of a new family lands in waitUntil, so a family created before the stamp is refused
 * here too (`row` has the family's created_at).
 */
function predatesClientRevocation(row: Row, request: GrantRequest): boolean {
  return Number(row.created_at) < request.clientRevokedBefore;
}

/** RFC 8707 §2.2: a resource named at the token endpoint must be the one the grant is for. */
function refusedRequest(grant: FamilyGrant, request: GrantRequest): GrantFailure | undefined {
  if (request.requestedAudience === undefined) return undefined;
  if (request.requestedAudience === (grant.resource ?? request.defaultAudience)) return undefined;
  return fail("resource was not part of the authorization (RFC 8707 §2.2)", "invalid_target");
}

export interface RefreshStatus {
  grant: FamilyGrant;
  active: boolean;
  expiresAt: number;
  issuedAt: number;
  familyCreatedAt: number;
  holder: HolderSnapshot | null;
  /** The key the family is bound to (RFC 9449 §5), for introspection's `cnf`. */
  jkt: string | null;
}

/** A REFRESH_WITH_BINDING row as introspection sees it, or null when there is no such token. */
function refreshStatus(token: Row | undefined, now: number): RefreshStatus | null {
  if (!token) return null;
  // revokeAllBefore marks every family revoked, so revoked_at alone says whether it still lives.
  const active = token.revoked_at === null && token.rotated_at === null && Number(token.expires_at) > now;
  return {
    grant: toGrant(token),
    active,
    expiresAt: Number(token.expires_at),
    issuedAt: Number(token.token_created_at),
    familyCreatedAt: Number(token.created_at),
    holder: holderOf(token),
    jkt: boundKey(token),
  };
}

/** The DPoP key of a REFRESH_WITH_BINDING row's family, or null when it is bound to none. */
function boundKey(row: Row): string | null {
  return row.bound_jkt === null || row.bound_jkt === undefined ? null : String(row.bound_jkt);
}

/** The holder from a row with HOLDER_COLUMNS, or null when the holder is not in the row's team. */
function holderOf(row: Row): HolderSnapshot | null {
  if (row.holder_role === null || row.holder_role === undefined) return null;
  return {
    email: row.holder_email === null ? null : String(row.holder_email),
    name: row.holder_name === null ? null : String(row.holder_name),
    role: String(row.holder_role),
    onCallRole: String(row.holder_on_call_role),
  };
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

// ---- DPoP (RFC 9449) records and types ----------------------------------------------------------

/** A DPoP proof to spend: its replay key (dpop-proof.ts proofReplayKey) and until when to remember it (Unix ms). */
export interface ProofUse {
  key: string;
  expiresAt: number;
}

export interface ProofBinding extends ProofUse {
  /** RFC 7638 thumbprint of the proof's key. */
  jkt: string;
  /** Bind the family's refresh tokens to `jkt` (public clients, RFC 9449 §5). */
  bindRefresh: boolean;
}

export type ProofFailure = { ok: false; error: "invalid_dpop_proof"; description: string; revokedFamily?: undefined };

function proofReplayed(): ProofFailure {
  return { ok: false, error: "invalid_dpop_proof", description: "this DPoP proof was already used (RFC 9449 §11.1)" };
}
