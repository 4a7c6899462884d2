/**
 * The audit log's sentences (src/pages/settings/audit-sentence.ts): one for every kind the code
 * records, with the facts each event carries, scopes summarised as on the consent page.
 */
import { describe, expect, it } from "vitest";
import { type AuditFacts, auditSentence } from "../src/pages/settings/audit-sentence";
import type { AuditKind } from "../src/store/audit";

const event = (kind: string, detail: Record<string, unknown> = {}, more: Partial<AuditFacts> = {}): AuditFacts => ({
  kind,
  actor: "member@example.com",
  app: "Deploy bot",
  detail,
  ...more,
});

/** What each recordAudit caller writes (grep recordAudit in src/), and the sentence it must read as. */
const CASES: Record<AuditKind, [AuditFacts, string]> = {
  "client.registered": [
    event(
      "client.registered",
      { client_name: "CLI", redirect_uris: ["http://127.0.0.1/cb", "https://app.example/cb"], auth_method: "none" },
      { actor: "" },
    ),
    "CLI registered itself, sending people back to 127.0.0.1, app.example.",
  ],
  "client.created": [
    event("client.created", {
      name: "Deploy bot",
      type: "client_credentials",
      scope: "ir.incidents:read oc.alerts:read",
    }),
    "member@example.com created the service (no person signs in) Deploy bot, which may view incidents and alerts.",
  ],
  "client.updated": [
    event("client.updated", { fields: ["name", "scope"] }, { actor: "the operator (admin API token)" }),
    "The operator (admin API token) changed the name and permissions of Deploy bot.",
  ],
  "client.secret_reset": [
    event("client.secret_reset"),
    "member@example.com reset the secret of Deploy bot: the old secret stopped working at once.",
  ],
  "client.tokens_revoked": [event("client.tokens_revoked"), "member@example.com revoked every token of Deploy bot."],
  "client.deleted": [
    event("client.deleted", { name: "Deploy bot" }, { app: "app_1 (deleted)" }),
    "member@example.com deleted Deploy bot and every token it held.",
  ],
  "consent.granted": [
    event("consent.granted", { scopes: ["ir.incidents:read", "oc.alerts:read"] }),
    "member@example.com allowed Deploy bot to view incidents and alerts.",
  ],
  "consent.denied": [
    event("consent.denied", { scopes: ["openid", "ir.incidents:write"] }),
    "member@example.com refused Deploy bot, which asked to change incidents and know who they are.",
  ],
  "device.approved": [
    event("device.approved", { scopes: ["ir.incidents:read", "oc.alerts:read"] }),
    "member@example.com allowed Deploy bot on a device to view incidents and alerts.",
  ],
  "device.denied": [
    event("device.denied", { scopes: ["openid", "ir.incidents:write"] }),
    "member@example.com refused Deploy bot on a device, which asked to change incidents and know who they are.",
  ],
  "consent.revoked": [
    event("consent.revoked", { name: "Deploy bot" }),
    "member@example.com revoked the access of Deploy bot: its tokens stopped working at once.",
  ],
  signin: [
    event("signin", { method: "dev", newUser: true }, { app: null }),
    "member@example.com signed in with the developer sign-in, for the first time.",
  ],
  signout: [event("signout", {}, { app: null }), "member@example.com signed out."],
  "token.revoked": [
    event("token.revoked", { token_type: "refresh_token", family_id: "fam_1" }),
    "Deploy bot revoked a refresh token of member@example.com, ending that authorization and its tokens.",
  ],
  "refresh.reuse_detected": [
    event("refresh.reuse_detected", { family_id: "fam_1", reason: "reuse" }),
    "Refresh token reused: every token of this authorization was revoked (Deploy bot, for member@example.com).",
  ],
  "code.replay_detected": [
    event("code.replay_detected", { family_id: "fam_1", reason: "replay" }),
    "Authorization code used twice: every token issued from it was revoked (Deploy bot, for member@example.com).",
  ],
  "member.role_changed": [
    event("member.role_changed", {
      email: "observer@example.com",
      from: { role: "observer", on_call_role: "observer" },
      to: { role: "member", on_call_role: "responder" },
    }),
    "member@example.com changed the roles of observer@example.com: observer (on-call observer) → member (on-call responder).",
  ],
  "member.removed": [
    event("member.removed", { email: "observer@example.com", from: { role: "observer", on_call_role: "observer" } }),
    "member@example.com removed observer@example.com from the team (was observer (on-call observer)).",
  ],
  "member.invited": [
    event("member.invited", { email: "new@example.com", to: { role: "member", on_call_role: "responder" } }),
    "member@example.com invited new@example.com as member (on-call responder).",
  ],
  "member.invitation_withdrawn": [
    event("member.invitation_withdrawn", { email: "new@example.com" }),
    "member@example.com withdrew the invitation of new@example.com.",
  ],
  "member.joined": [
    event("member.joined", { email: "new@example.com", to: { role: "member", on_call_role: "responder" } }),
    "new@example.com joined the team by invitation as member (on-call responder).",
  ],
  "keys.rotated": [
    event("keys.rotated", { kids: { ES256: "k1", RS256: "k2" } }, { actor: "", app: null }),
    "The signing keys were rotated (ES256, RS256); tokens signed before stay valid until they expire.",
  ],
};

describe("auditSentence", () => {
  it.each(Object.entries(CASES))("%s reads as a sentence with its facts", (_kind, [facts, sentence]) => {
    expect(auditSentence(facts)).toBe(sentence);
  });

  it("says from which app an RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2) signed the person out", () => {
    expect(auditSentence(event("signout", { via: "rp_initiated_logout" }))).toBe(
      "member@example.com signed out from Deploy bot.",
    );
  });

  it("summarises many scopes as the consent page does, never as a list of 46", () => {
    const every = ["ir", "oc"].flatMap((p) =>
      (p === "ir" ? ["incidents", "services", "severities", "workflows"] : ["alerts"]).flatMap((r) => [
        `${p}.${r}:read`,
        `${p}.${r}:write`,
      ]),
    );
    expect(auditSentence(event("consent.granted", { scopes: every }))).toBe(
      "member@example.com allowed Deploy bot to view and change 4 kinds of incident response data and view and change alerts.",
    );
  });

  it("says an unknown kind and missing facts plainly, never throws on odd detail", () => {
    expect(auditSentence(event("future.kind", { x: 1 }))).toBe("future.kind (member@example.com)");
    expect(auditSentence(event("consent.granted", { scopes: "not a list" }, { actor: "", app: null }))).toBe(
      "Someone allowed an app.",
    );
  });
});
