/**
 * The scope catalog and the role ceilings: the one place that lists every scope and what each role
 * may be granted. Pure functions only.
 */
import { OAuthError } from "./errors";

export const OIDC_SCOPES = ["openid", "profile", "email", "offline_access"] as const;
export const META_SCOPES = ["all", "ir.all", "oc.all"] as const;

export const IR_RESOURCES = [
  "incidents",
  "services",
  "environments",
  "functionalities",
  "severities",
  "incident_types",
  "incident_roles",
  "workflows",
  "catalogs",
  "groups",
  "playbooks",
  "retrospectives",
  "status_pages",
  "form_fields",
  "pulses",
] as const;

export const OC_RESOURCES = [
  "alerts",
  "schedules",
  "escalation_policies",
  "alert_routing_rules",
  "heartbeats",
  "alert_sources",
  "live_call_routing",
  "shift_overrides",
] as const;

const both = (prefix: string, resources: readonly string[]) =>
  resources.flatMap((r) => [`${prefix}.${r}:read`, `${prefix}.${r}:write`]);

export const IR_SCOPES: readonly string[] = both("ir", IR_RESOURCES);
export const OC_SCOPES: readonly string[] = both("oc", OC_RESOURCES);
/** The 46 granular scopes: every ir.* and oc.* resource with :read and :write. */
export const GRANULAR_SCOPES: readonly string[] = [...IR_SCOPES, ...OC_SCOPES];
export const ALL_SCOPES: readonly string[] = [...OIDC_SCOPES, ...META_SCOPES, ...GRANULAR_SCOPES];

const GRANULAR = new Set(GRANULAR_SCOPES);
const OIDC = new Set<string>(OIDC_SCOPES);
const META = new Set<string>(META_SCOPES);
const KNOWN = new Set(ALL_SCOPES);

export const isGranularScope = (s: string) => GRANULAR.has(s);
export const isOidcScope = (s: string) => OIDC.has(s);
export const isMetaScope = (s: string) => META.has(s);
export const isKnownScope = (s: string) => KNOWN.has(s);

/** RFC 6749 §3.3: space-delimited, case-sensitive, each token %x21 / %x23-5B / %x5D-7E. */
export function parseScope(value: string | undefined | null): string[] | { invalid: string } {
  if (value === undefined || value === null) return [];
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(value))
    return { invalid: "scope contains characters RFC 6749 §3.3 forbids" };
  const scopes = value.split(" ").filter((s) => s.length > 0);
  return [...new Set(scopes)];
}

/** A requested `scope` parameter: well-formed (RFC 6749 §3.3) and known, or `invalid_scope`. */
export function parseRequestedScopes(value: string | undefined): string[] {
  const parsed = parseScope(value);
  if ("invalid" in parsed) throw new OAuthError("invalid_scope", parsed.invalid);
  const unknown = parsed.find((s) => !isKnownScope(s));
  if (unknown !== undefined) throw new OAuthError("invalid_scope", `unknown scope ${unknown.slice(0, 60)}`);
  return parsed;
}

/** `all` → every granular scope, `ir.all` → every ir.*, `oc.all` → every oc.*; others unchanged. */
export function expandMetaScopes(scopes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of scopes) {
    if (s === "all") for (const g of GRANULAR_SCOPES) out.add(g);
    else if (s === "ir.all") for (const g of IR_SCOPES) out.add(g);
    else if (s === "oc.all") for (const g of OC_SCOPES) out.add(g);
    else out.add(s);
  }
  return [...out];
}

export const formatScope = (scopes: Iterable<string>) => sortScopes(scopes).join(" ");

/** Catalog order (OIDC first, then ir.*, then oc.*), so scope strings are stable. */
const CATALOG_ORDER = new Map(ALL_SCOPES.map((s, i) => [s, i]));

export function sortScopes(scopes: Iterable<string>): string[] {
  const order = CATALOG_ORDER;
  return [...new Set(scopes)].sort((a, b) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9) || a.localeCompare(b));
}

export function intersectScopes(a: Iterable<string>, b: Iterable<string>): string[] {
  const right = new Set(b);
  return sortScopes([...a].filter((s) => right.has(s)));
}

// ---- roles ---------------------------------------------------------------------------------------

export const ROLES = ["admin", "member", "observer", "none"] as const;
export const ON_CALL_ROLES = ["admin", "responder", "observer", "none"] as const;
export type Role = (typeof ROLES)[number];
export type OnCallRole = (typeof ON_CALL_ROLES)[number];

const reads = (prefix: string, resources: readonly string[]) => resources.map((r) => `${prefix}.${r}:read`);
const writes = (prefix: string, resources: readonly string[]) => resources.map((r) => `${prefix}.${r}:write`);

/** Incident-response role → the ir.* scopes it can hold. */
const IR_CEILING: Record<Role, readonly string[]> = {
  admin: IR_SCOPES,
  // Members run incidents day to day; configuration (services, severities, workflows…) is admin-only.
  member: [
    ...reads("ir", IR_RESOURCES),
    ...writes("ir", ["incidents", "retrospectives", "pulses", "status_pages", "playbooks"]),
  ],
  observer: reads("ir", IR_RESOURCES),
  none: [],
};

/** On-call role → the oc.* scopes it can hold. */
const OC_CEILING: Record<OnCallRole, readonly string[]> = {
  admin: OC_SCOPES,
  // Responders act on alerts and their own shifts; routing and sources are admin-only.
  responder: [...reads("oc", OC_RESOURCES), ...writes("oc", ["alerts", "shift_overrides", "heartbeats"])],
  observer: reads("oc", OC_RESOURCES),
  none: [],
};

export const isRole = (v: unknown): v is Role => typeof v === "string" && (ROLES as readonly string[]).includes(v);
export const isOnCallRole = (v: unknown): v is OnCallRole =>
  typeof v === "string" && (ON_CALL_ROLES as readonly string[]).includes(v);

/**
 * Everything a member of a team may hold: the OIDC scopes plus the granular scopes of both roles.
 * A service user (client_credentials) has no roles: its ceiling is exactly its app's scopes.
 */
export function roleCeiling(role: Role, onCallRole: OnCallRole): Set<string> {
  return new Set<string>([...OIDC_SCOPES, ...IR_CEILING[role], ...OC_CEILING[onCallRole]]);
}

/** Effective permissions = granted ∩ ceiling (a scope never lifts a user above their role). */
export function effectiveScopes(granted: Iterable<string>, ceiling: Iterable<string>): string[] {
  return intersectScopes(granted, ceiling);
}

/** Plain words for the consent page. */
export function describeScope(scope: string): string {
  switch (scope) {
    case "openid":
      return "Confirm who you are";
    case "profile":
      return "See your name, team and roles";
    case "email":
      return "See your email address";
    case "offline_access":
      return "Stay connected when you are not using it";
  }
  const m = /^(ir|oc)\.([a-z_]+):(read|write)$/.exec(scope);
  if (!m) return scope;
  const area = m[1] === "ir" ? "incident response" : "on-call";
  const thing = (m[2] as string).replaceAll("_", " ");
  return m[3] === "read" ? `View ${area} ${thing}` : `Create, change and delete ${area} ${thing}`;
}
