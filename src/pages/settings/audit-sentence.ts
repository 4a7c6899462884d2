/**
 * Each audit event as one sentence a person reads at a glance ("member@example.com allowed Deploy
 * bot to view incidents and alerts"). Scopes are summarised as on the consent page
 * (scope-groups.ts); the raw detail stays available on the page, behind a <details>.
 */
import { accessPhrase, listWords } from "../../oauth/scope-groups";
import { parseScope } from "../../oauth/scopes";
import type { AuditKind } from "../../store/audit";
import { APP_TYPE_LABELS } from "./format";

export interface AuditFacts {
  kind: string;
  /** Email or name of the person, "the operator (admin API token)", or empty when nobody acted. */
  actor: string;
  /** Name of the app, "<name> (deleted)", or null when the event is about no app. */
  app: string | null;
  detail: Record<string, unknown>;
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

/** Scopes as the detail holds them: a list (consent) or a space-separated string (app changes). */
function scopesOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === "string");
  const parsed = typeof v === "string" ? parseScope(v) : [];
  return Array.isArray(parsed) ? parsed : [];
}

const FIELD_WORDS: Record<string, string> = {
  name: "name",
  redirect_uris: "redirect URIs",
  scope: "permissions",
  automatic_consent: "automatic consent",
};

/** A member event's roles, as `{ role, on_call_role }` in its detail: "member (on-call responder)". */
function rolesOf(value: unknown): string {
  if (typeof value !== "object" || value === null) return "unknown roles";
  const { role, on_call_role: onCall } = value as Record<string, unknown>;
  return typeof role === "string" && typeof onCall === "string" ? `${role} (on-call ${onCall})` : "unknown roles";
}
const personOf = (e: AuditFacts): string => text(e.detail.email) ?? "someone";

/** Every kind has a sentence (a Record, so a new kind cannot be forgotten here). */
const SENTENCES: Record<AuditKind, (e: AuditFacts, who: string, app: string) => string> = {
  "client.registered": (e, _who, app) => {
    const hosts = (Array.isArray(e.detail.redirect_uris) ? e.detail.redirect_uris : [])
      .map((u) => (typeof u === "string" && URL.canParse(u) ? new URL(u).host : undefined))
      .filter((h): h is string => h !== undefined);
    const name = text(e.detail.client_name) ?? app;
    return `${name} registered itself${hosts.length > 0 ? `, sending people back to ${[...new Set(hosts)].join(", ")}` : ""}`;
  },
  "client.created": (e, who, app) => {
    const type = text(e.detail.type);
    const label =
      type && Object.hasOwn(APP_TYPE_LABELS, type) ? APP_TYPE_LABELS[type as keyof typeof APP_TYPE_LABELS].name : "app";
    const scopes = scopesOf(e.detail.scope);
    return `${who} created the ${label.toLowerCase()} ${text(e.detail.name) ?? app}${scopes.length > 0 ? `, which may ${accessPhrase(scopes)}` : ""}`;
  },
  "client.updated": (e, who, app) => {
    const fields = (Array.isArray(e.detail.fields) ? e.detail.fields : []).map(
      (f) => FIELD_WORDS[String(f)] ?? String(f),
    );
    return `${who} changed ${fields.length > 0 ? `the ${listWords(fields)} of ` : ""}${app}`;
  },
  "client.secret_reset": (_e, who, app) => `${who} reset the secret of ${app}: the old secret stopped working at once`,
  "client.tokens_revoked": (_e, who, app) => `${who} revoked every token of ${app}`,
  "client.deleted": (e, who, app) => `${who} deleted ${text(e.detail.name) ?? app} and every token it held`,
  "consent.granted": (e, who, app) => {
    const what = accessPhrase(scopesOf(e.detail.scopes));
    return `${who} allowed ${app}${what ? ` to ${what}` : ""}`;
  },
  "consent.denied": (e, who, app) => {
    const what = accessPhrase(scopesOf(e.detail.scopes));
    return `${who} refused ${app}${what ? `, which asked to ${what}` : ""}`;
  },
  "device.approved": (e, who, app) => {
    const what = accessPhrase(scopesOf(e.detail.scopes));
    return `${who} allowed ${app} on a device${what ? ` to ${what}` : ""}`;
  },
  "device.denied": (e, who, app) => {
    const what = accessPhrase(scopesOf(e.detail.scopes));
    return `${who} refused ${app} on a device${what ? `, which asked to ${what}` : ""}`;
  },
  "consent.revoked": (_e, who, app) => `${who} revoked the access of ${app}: its tokens stopped working at once`,
  signin: (e, who) => {
    const how = e.detail.method === "dev" ? "with the developer sign-in" : "through the organization's sign-in";
    return `${who} signed in ${how}${e.detail.newUser === true ? ", for the first time" : ""}`;
  },
  signout: (e, who, app) =>
    e.detail.via === "rp_initiated_logout" && e.app ? `${who} signed out from ${app}` : `${who} signed out`,
  "token.revoked": (e, who, app) =>
    e.detail.token_type === "refresh_token"
      ? `${app} revoked a refresh token of ${who}, ending that authorization and its tokens`
      : `${app} revoked an access token of ${who}`,
  "refresh.reuse_detected": (_e, who, app) =>
    `Refresh token reused: every token of this authorization was revoked (${app}, for ${who})`,
  "code.replay_detected": (_e, who, app) =>
    `Authorization code used twice: every token issued from it was revoked (${app}, for ${who})`,
  "member.role_changed": (e, who) =>
    `${who} changed the roles of ${personOf(e)}: ${rolesOf(e.detail.from)} → ${rolesOf(e.detail.to)}`,
  "member.removed": (e, who) => `${who} removed ${personOf(e)} from the team (was ${rolesOf(e.detail.from)})`,
  "member.invited": (e, who) => `${who} invited ${personOf(e)} as ${rolesOf(e.detail.to)}`,
  "member.invitation_withdrawn": (e, who) => `${who} withdrew the invitation of ${personOf(e)}`,
  "member.joined": (e) => `${personOf(e)} joined the team by invitation as ${rolesOf(e.detail.to)}`,
  "keys.rotated": (e) => {
    const kids = e.detail.kids && typeof e.detail.kids === "object" ? Object.keys(e.detail.kids) : [];
    return `The signing keys were rotated${kids.length > 0 ? ` (${kids.join(", ")}); tokens signed before stay valid until they expire` : ""}`;
  },
};

export const isAuditKind = (kind: string): kind is AuditKind => Object.hasOwn(SENTENCES, kind);

/** The sentence of an event; an unknown kind (a newer release's) is said as its raw name. */
export function auditSentence(e: AuditFacts): string {
  const who = e.actor || "Someone";
  const app = e.app ?? "an app";
  if (!isAuditKind(e.kind)) return `${e.kind} (${who})`;
  const sentence = SENTENCES[e.kind](e, who, app);
  // A sentence opens with a capital, except on an email address, which is written as it is.
  const first = sentence.split(" ", 1)[0] ?? "";
  return `${first.includes("@") ? sentence : sentence.charAt(0).toUpperCase() + sentence.slice(1)}.`;
}
