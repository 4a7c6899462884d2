/**
 * How scopes are grouped for people: three areas (sign-in, incident response, on-call), each a list
 * of resources with a view (`:read`) and a change (`:write`) scope, summarised in one line. The
 * consent page, the connected-apps page, the app forms' scope picker and the audit log all group
 * through this module, and the consent decision reads its form through `scopesFromConsentForm`.
 * The scopes themselves and the role ceilings are listed once, in scopes.ts.
 */
import { IR_RESOURCES, OC_RESOURCES, OIDC_SCOPES, sortScopes } from "./scopes";

export type AreaId = "signin" | "ir" | "oc";

export interface ScopeArea {
  id: AreaId;
  title: string;
  /** What the area's resources are, in a sentence: "15 kinds of incident response data". */
  noun: string;
  /** The area's scopes in catalog order. */
  scopes: readonly string[];
  /**
   * The meta scope that stands for the whole area in the app forms: its box there adds every scope
   * of the area (expandMetaScopes). Sign-in has none.
   */
  meta?: "ir.all" | "oc.all";
  /** Resource names, for the areas made of `<prefix>.<resource>:read|write` scopes. */
  resources?: readonly string[];
}

const granular = (prefix: string, resources: readonly string[]) =>
  resources.flatMap((r) => [`${prefix}.${r}:read`, `${prefix}.${r}:write`]);

export const SCOPE_AREAS: readonly ScopeArea[] = [
  { id: "signin", title: "Sign-in", noun: "sign-in details", scopes: OIDC_SCOPES },
  {
    id: "ir",
    title: "Incident response",
    noun: "incident response data",
    scopes: granular("ir", IR_RESOURCES),
    meta: "ir.all",
    resources: IR_RESOURCES,
  },
  {
    id: "oc",
    title: "On-call",
    noun: "on-call data",
    scopes: granular("oc", OC_RESOURCES),
    meta: "oc.all",
    resources: OC_RESOURCES,
  },
];

const AREA_OF = new Map(SCOPE_AREAS.flatMap((area) => area.scopes.map((s) => [s, area] as const)));
const isAreaId = (v: string): v is AreaId => SCOPE_AREAS.some((a) => a.id === v);

export const areaOf = (scope: string): ScopeArea | undefined => AREA_OF.get(scope);

/** "incident_types" → "incident types". */
export const resourceName = (resource: string) => resource.replaceAll("_", " ");

/** The resource and the access of a granular scope: `ir.incidents:write` → incidents, change. */
export function splitScope(scope: string): { resource: string; access: "view" | "change" } | undefined {
  const m = /^(?:ir|oc)\.([a-z_]+):(read|write)$/.exec(scope);
  if (!m) return undefined;
  return { resource: m[1] as string, access: m[2] === "read" ? "view" : "change" };
}

/** Whose sign-in details: the person reading (consent, connected apps) or someone else (audit). */
export type Reader = "you" | "they";

/** What a sign-in scope lets the app know, for a list ("who you are, your email address"). */
function signinWords(scope: string, reader: Reader): string | undefined {
  const [who, whose] = reader === "you" ? ["you are", "your"] : ["they are", "their"];
  if (scope === "openid") return `who ${who}`;
  if (scope === "profile") return `${whose} name, team and roles`;
  if (scope === "email") return `${whose} email address`;
  return undefined;
}

export type AccessLevel = "view" | "change" | "view and change";

/** One resource of an area with the scopes of it in the set at hand. */
export interface ResourceRow {
  resource: string;
  name: string;
  view?: string;
  change?: string;
}

export interface ScopeGroup {
  area: ScopeArea;
  /** The set's scopes in this area that can be granted (or held), catalog order. */
  scopes: string[];
  /** The set's scopes in this area the person's role cannot grant (empty without a ceiling). */
  ungrantable: string[];
  /** The granted scopes by resource (sign-in: one row per scope, as `view`). */
  rows: ResourceRow[];
  /** Null for sign-in, whose scopes are about the person, not data. */
  level: AccessLevel | null;
  /** One line: "View and change 15 kinds of incident response data". */
  summary: string;
}

function rowsOf(area: ScopeArea, scopes: readonly string[]): ResourceRow[] {
  if (!area.resources) return scopes.map((s) => ({ resource: s, name: s, view: s }));
  const rows: ResourceRow[] = [];
  for (const resource of area.resources) {
    const row: ResourceRow = { resource, name: resourceName(resource) };
    for (const s of scopes) {
      const split = splitScope(s);
      if (split?.resource === resource) row[split.access] = s;
    }
    if (row.view || row.change) rows.push(row);
  }
  return rows;
}

/** "a", "a and b", "a, b and c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/** Up to three resources by name, more by count: "incidents and services", "15 kinds of on-call data". */
function things(area: ScopeArea, resources: readonly string[]): string {
  if (resources.length <= 3) return listWords(resources.map(resourceName));
  return `${resources.length} kinds of ${area.noun}`;
}

function levelOf(rows: readonly ResourceRow[]): AccessLevel | null {
  const views = rows.some((r) => r.view);
  const changes = rows.some((r) => r.change);
  if (views && changes) return "view and change";
  if (changes) return "change";
  return views ? "view" : null;
}

/**
 * A phrase for what the set allows in one area, lower case: "view and change 15 kinds of incident
 * response data", "view 15 kinds of incident response data and change 5 of them", "know who you are".
 */
function phrase(area: ScopeArea, rows: readonly ResourceRow[], reader: Reader = "you"): string {
  if (!area.resources) {
    const known = rows.map((r) => signinWords(r.resource, reader)).filter((w): w is string => w !== undefined);
    const away = reader === "you" ? "you are" : "they are";
    const stay = rows.some((r) => r.resource === "offline_access") ? [`stay connected while ${away} away`] : [];
    return listWords([...(known.length > 0 ? [`know ${listWords(known)}`] : []), ...stay]);
  }
  const viewed = rows.filter((r) => r.view).map((r) => r.resource);
  const changed = rows.filter((r) => r.change).map((r) => r.resource);
  if (changed.length === 0) return `view ${things(area, viewed)}`;
  if (viewed.length === 0) return `change ${things(area, changed)}`;
  if (viewed.length === changed.length && changed.every((r) => viewed.includes(r)))
    return `view and change ${things(area, viewed)}`;
  if (changed.every((r) => viewed.includes(r)) && viewed.length > 3)
    return `view ${things(area, viewed)} and change ${changed.length <= 3 ? listWords(changed.map(resourceName)) : `${changed.length} of them`}`;
  return `view ${things(area, viewed)} and change ${things(area, changed)}`;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The scopes grouped by area, areas with nothing in the set left out. With a ceiling (the consent
 * page), scopes outside it go to `ungrantable` instead of the rows and the summary.
 */
export function groupScopes(scopes: Iterable<string>, ceiling?: ReadonlySet<string>): ScopeGroup[] {
  const sorted = sortScopes(scopes);
  const groups: ScopeGroup[] = [];
  for (const area of SCOPE_AREAS) {
    const inArea = sorted.filter((s) => areaOf(s) === area);
    if (inArea.length === 0) continue;
    const granted = ceiling ? inArea.filter((s) => ceiling.has(s)) : inArea;
    const rows = rowsOf(area, granted);
    groups.push({
      area,
      scopes: granted,
      ungrantable: ceiling ? inArea.filter((s) => !ceiling.has(s)) : [],
      rows,
      level: area.resources ? levelOf(rows) : null,
      summary: rows.length > 0 ? capitalise(phrase(area, rows)) : "Nothing your role can grant",
    });
  }
  return groups;
}

/**
 * One phrase for a whole set, across areas, for sentences ("… allowed Deploy bot to view incidents
 * and alerts"). Data areas that each name at most three resources with the same access are merged.
 */
export function accessPhrase(scopes: Iterable<string>): string {
  const groups = groupScopes(scopes);
  const data = groups.filter((g) => g.area.resources);
  const parts: string[] = [];
  const level = data[0]?.level;
  const mergeable =
    data.length > 1 &&
    data.every((g) => g.level === level && (level !== "view and change" || g.rows.every((r) => r.view && r.change))) &&
    data.reduce((n, g) => n + g.rows.length, 0) <= 3;
  if (mergeable) parts.push(`${level} ${listWords(data.flatMap((g) => g.rows.map((r) => r.name)))}`);
  else parts.push(...data.map((g) => phrase(g.area, g.rows)));
  const signin = groups.find((g) => !g.area.resources);
  if (signin) parts.push(phrase(signin.area, signin.rows, "they"));
  return listWords(parts);
}

/** "Sign-in: who you are, your email address · Incident response: view 3 … · On-call: none". */
export function scopeSummaryLine(scopes: Iterable<string>): string {
  return groupScopes(scopes)
    .map(
      (g) => `${g.area.title}: ${g.area.resources ? phrase(g.area, g.rows) : g.rows.map((r) => r.resource).join(", ")}`,
    )
    .join(" · ");
}

// ---- the consent form ---------------------------------------------------------------------------

/** Field names of the consent form: one `scope` box per grantable scope, one `area` box per group. */
export const CONSENT_SCOPE_FIELD = "scope";
export const CONSENT_AREA_FIELD = "area";

/**
 * What the person allowed on the consent page, without JavaScript: a scope is granted when it was
 * requested, its own box is ticked, the box of its area is ticked, and the role can grant it. The
 * area box is the area's switch: unticked, nothing of the area is granted whatever its rows say (the
 * page greys the rows out with CSS alone). Anything posted that was not offered is ignored.
 */
/** The consent form as posted: the ticked per-scope boxes and the ticked area switches. */
export interface ConsentForm {
  scopes: readonly string[];
  areas: readonly string[];
}

/** The consent page's answer: a denial, or an approval with what was ticked. */
export type ConsentDecision = { approve: false } | { approve: true; ticked: ConsentForm };

/**
 * Reads the posted consent form (the authorization endpoint's and /device's alike): `decision`,
 * then the per-scope boxes and the area switches.
 */
export function consentDecisionOf(form: {
  get(name: string): string | null | undefined;
  getAll(name: string): string[];
}): ConsentDecision {
  if (form.get("decision") !== "approve") return { approve: false };
  return {
    approve: true,
    ticked: { scopes: form.getAll(CONSENT_SCOPE_FIELD), areas: form.getAll(CONSENT_AREA_FIELD) },
  };
}

export function scopesFromConsentForm(
  requested: readonly string[],
  form: ConsentForm,
  ceiling: ReadonlySet<string>,
): string[] {
  const ticked = new Set(form.scopes);
  const areas = new Set(form.areas.filter(isAreaId));
  return sortScopes(
    requested.filter((s) => {
      const area = areaOf(s);
      return area !== undefined && areas.has(area.id) && ticked.has(s) && ceiling.has(s);
    }),
  );
}
