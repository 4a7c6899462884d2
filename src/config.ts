/**
 * Typed bindings and settings, validated once per isolate. Every other module reads settings from
 * here; nothing derives the issuer from a request (the Host header is never trusted).
 */
import { oncePer } from "./platform/once-per";

export interface Env {
  DB: D1Database;
  RATE_LIMIT: KVNamespace;
  /** UserGrants objects; durable/stub.ts is the one typed way to reach one. */
  USER_GRANTS: DurableObjectNamespace;
  /** ClientReplay objects (single-use client assertion and proof jtis); reached through durable/stub.ts. */
  CLIENT_REPLAY: DurableObjectNamespace;
  /** DeviceAuthorization objects (RFC 8628), one per user code; reached through durable/stub.ts. */
  DEVICE_AUTHORIZATIONS: DurableObjectNamespace;
  ISSUER?: string;
  DEV_SIGNIN?: string;
  KEY_ENCRYPTION_SECRET?: string;
  ADMIN_API_TOKEN?: string;
  DEFAULT_AUDIENCE?: string;
  RESOURCE_ALLOW_LIST?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  ID_TOKEN_TTL_SECONDS?: string;
  REFRESH_TOKEN_TTL_SECONDS?: string;
  REFRESH_GRACE_SECONDS?: string;
  SESSION_TTL_SECONDS?: string;
  CLIENT_CACHE_SECONDS?: string;
  REGISTRATION_LIMIT_PER_HOUR?: string;
  UPSTREAM_ISSUER?: string;
  UPSTREAM_CLIENT_ID?: string;
  UPSTREAM_CLIENT_SECRET?: string;
  ALLOW_LOOPBACK_METADATA_DOCUMENTS?: string;
}

export interface UpstreamSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface Settings {
  /** Exactly as configured (no trailing slash), byte-identical in every document and token. */
  issuer: string;
  issuerUrl: URL;
  issuerIsLoopback: boolean;
  /** Dev sign-in needs the flag AND a loopback issuer, so it can never be on in production. */
  devSignIn: boolean;
  /** undefined in local development without a secret: keys then use a fixed development key. */
  keyEncryptionSecret: string | undefined;
  adminApiToken: string | undefined;
  defaultAudience: string;
  /** undefined = any https resource is accepted (RFC 8707); a list = only these. */
  resourceAllowList: string[] | undefined;
  accessTokenTtl: number;
  idTokenTtl: number;
  codeTtl: number;
  refreshTokenTtl: number;
  refreshGraceSeconds: number;
  sessionTtl: number;
  clientCacheSeconds: number;
  registrationLimitPerHour: number;
  upstream: UpstreamSettings | undefined;
  /** Test-only: lets client ID metadata documents live on loopback; refused with a public issuer. */
  allowLoopbackMetadataDocuments: boolean;
}

/** A setting that is missing or invalid: the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Configuration error: ${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

/**
 * The loopback hosts, and no others (127.0.0.2 is loopback too, but not one of them): where http is
 * allowed for the issuer, redirect URIs (RFC 8252 §7.3) and test-only metadata documents.
 */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

function parseIssuer(raw: string | undefined): URL {
  if (!raw) throw new ConfigError("ISSUER", "is required (e.g. https://auth.example.com)");
  const url = URL.parse(raw);
  if (!url) throw new ConfigError("ISSUER", `is not a URL: ${JSON.stringify(raw)}`);
  // RFC 8414 §2: https, no query or fragment. http is tolerated only on loopback for development.
  if (url.search || url.hash || raw.includes("?") || raw.includes("#")) {
    throw new ConfigError("ISSUER", "must not have a query or fragment (RFC 8414 §2)");
  }
  if (raw.endsWith("/")) throw new ConfigError("ISSUER", "must not end with a slash");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw new ConfigError("ISSUER", "must be https (http only on 127.0.0.1, [::1] or localhost)");
  }
  return url;
}

function parseSeconds(env: Env, name: keyof Env, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < min) {
    throw new ConfigError(name, `must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function parseFlag(env: Env, name: keyof Env): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "false" || raw === "0") return false;
  if (raw === "true" || raw === "1") return true;
  throw new ConfigError(name, `must be "true" or "false", got ${JSON.stringify(raw)}`);
}

function parseAbsoluteUrl(name: keyof Env, raw: string): string {
  if (URL.canParse(raw)) return raw;
  throw new ConfigError(name, `contains something that is not an absolute URL: ${JSON.stringify(raw)}`);
}

export function loadSettings(env: Env): Settings {
  const issuerUrl = parseIssuer(env.ISSUER);
  const issuer = env.ISSUER as string;
  const issuerIsLoopback = isLoopbackHost(issuerUrl.hostname);
  const devFlag = parseFlag(env, "DEV_SIGNIN");
  const allowLoopbackDocs = parseFlag(env, "ALLOW_LOOPBACK_METADATA_DOCUMENTS");
  if (allowLoopbackDocs && !issuerIsLoopback) {
    throw new ConfigError("ALLOW_LOOPBACK_METADATA_DOCUMENTS", "is for tests only and needs a loopback ISSUER");
  }
  const secret = env.KEY_ENCRYPTION_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError("KEY_ENCRYPTION_SECRET", "must be at least 32 characters (e.g. openssl rand -base64 48)");
  }
  const adminApiToken = env.ADMIN_API_TOKEN || undefined;
  if (adminApiToken !== undefined && adminApiToken.length < 32) {
    throw new ConfigError("ADMIN_API_TOKEN", "must be at least 32 characters when set");
  }
  const allowList = env.RESOURCE_ALLOW_LIST?.trim()
    ? env.RESOURCE_ALLOW_LIST.split(/[\s,]+/)
        .filter(Boolean)
        .map((r) => parseAbsoluteUrl("RESOURCE_ALLOW_LIST", r))
    : undefined;
  const upstreamParts = [env.UPSTREAM_ISSUER, env.UPSTREAM_CLIENT_ID, env.UPSTREAM_CLIENT_SECRET];
  let upstream: UpstreamSettings | undefined;
  if (upstreamParts.some(Boolean)) {
    if (!env.UPSTREAM_ISSUER) throw new ConfigError("UPSTREAM_ISSUER", "is required when an upstream is configured");
    if (!env.UPSTREAM_CLIENT_ID)
      throw new ConfigError("UPSTREAM_CLIENT_ID", "is required when an upstream is configured");
    if (!env.UPSTREAM_CLIENT_SECRET) {
      throw new ConfigError("UPSTREAM_CLIENT_SECRET", "is required when an upstream is configured");
    }
    upstream = {
      issuer: parseAbsoluteUrl("UPSTREAM_ISSUER", env.UPSTREAM_ISSUER),
      clientId: env.UPSTREAM_CLIENT_ID,
      clientSecret: env.UPSTREAM_CLIENT_SECRET,
    };
  }
  return {
    issuer,
    issuerUrl,
    issuerIsLoopback,
    devSignIn: devFlag && issuerIsLoopback,
    keyEncryptionSecret: secret,
    adminApiToken,
    defaultAudience: env.DEFAULT_AUDIENCE ? parseAbsoluteUrl("DEFAULT_AUDIENCE", env.DEFAULT_AUDIENCE) : issuer,
    resourceAllowList: allowList,
    accessTokenTtl: parseSeconds(env, "ACCESS_TOKEN_TTL_SECONDS", 3600, 60),
    idTokenTtl: parseSeconds(env, "ID_TOKEN_TTL_SECONDS", 3600, 60),
    codeTtl: 60,
    refreshTokenTtl: parseSeconds(env, "REFRESH_TOKEN_TTL_SECONDS", 365 * 24 * 3600, 60),
    refreshGraceSeconds: parseSeconds(env, "REFRESH_GRACE_SECONDS", 30, 0),
    sessionTtl: parseSeconds(env, "SESSION_TTL_SECONDS", 7 * 24 * 3600, 60),
    clientCacheSeconds: parseSeconds(env, "CLIENT_CACHE_SECONDS", 5, 0),
    registrationLimitPerHour: parseSeconds(env, "REGISTRATION_LIMIT_PER_HOUR", 10, 1),
    upstream,
    allowLoopbackMetadataDocuments: allowLoopbackDocs,
  };
}

/** Settings for this env, parsed once per isolate. Throws ConfigError naming the bad variable. */
export const settingsOf: (env: Env) => Settings = oncePer(loadSettings);
