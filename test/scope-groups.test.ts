/**
 * The grouping rule of scopes for people (src/oauth/scope-groups.ts): areas, levels, one-line
 * summaries, and how the consent form's boxes become the granted scopes without JavaScript
 * (RFC 6749 §3.3: the authorization server may grant fewer scopes than requested, and says which).
 */
import { describe, expect, it } from "vitest";
import { accessPhrase, groupScopes, scopeSummaryLine, scopesFromConsentForm } from "../src/oauth/scope-groups";
import { expandMetaScopes, IR_SCOPES, OC_SCOPES, OIDC_SCOPES, roleCeiling } from "../src/oauth/scopes";

/** The example of issue 20: an app asking for sign-in, all of incident response and on-call alerts. */
const EXAMPLE = expandMetaScopes(["openid", "profile", "email", "offline_access", "ir.all", "oc.alerts:read"]);
const member = roleCeiling("member", "responder");
const admin = roleCeiling("admin", "admin");

describe("groupScopes", () => {
  it("puts every catalog scope in exactly one area, in the catalog's order", () => {
    const groups = groupScopes([...OIDC_SCOPES, ...IR_SCOPES, ...OC_SCOPES]);
    expect(groups.map((g) => g.area.id)).toEqual(["signin", "ir", "oc"]);
    expect(groups.map((g) => g.scopes.length)).toEqual([4, 30, 16]);
    expect(groups[1]?.rows).toHaveLength(15);
    expect(groups[2]?.rows).toHaveLength(8);
  });

  it("summarises the example in one line per area, with the level", () => {
    const [signin, ir, oc] = groupScopes(EXAMPLE, admin);
    expect(signin?.summary).toBe(
      "Know who you are, your name, team and roles and your email address and stay connected while you are away",
    );
    expect(signin?.level).toBeNull();
    expect(ir?.summary).toBe("View and change 15 kinds of incident response data");
    expect(ir?.level).toBe("view and change");
    expect(oc?.summary).toBe("View alerts");
    expect(oc?.level).toBe("view");
  });

  it("moves what the role cannot grant out of the rows and the summary, into `ungrantable`", () => {
    const [, ir, oc] = groupScopes(EXAMPLE, member);
    // A member can change incidents, retrospectives, pulses, status pages and playbooks, and view all 15.
    expect(ir?.summary).toBe("View 15 kinds of incident response data and change 5 of them");
    expect(ir?.scopes).toHaveLength(20);
    expect(ir?.ungrantable).toHaveLength(10);
    expect(ir?.ungrantable).toContain("ir.services:write");
    expect(ir?.rows.find((r) => r.resource === "services")).toEqual({
      resource: "services",
      name: "services",
      view: "ir.services:read",
    });
    expect(oc?.ungrantable).toEqual([]);
    const [irObserver] = groupScopes(["ir.incidents:write"], roleCeiling("observer", "observer"));
    expect(irObserver?.scopes).toEqual([]);
    expect(irObserver?.summary).toBe("Nothing your role can grant");
  });
});

describe("sentences (audit log, connected apps)", () => {
  it("merges a few resources across areas: view incidents and alerts", () => {
    expect(accessPhrase(["ir.incidents:read", "oc.alerts:read"])).toBe("view incidents and alerts");
    expect(accessPhrase(["openid", "email", "ir.incidents:read"])).toBe(
      "view incidents and know who they are and their email address",
    );
    expect(accessPhrase(["ir.incidents:read", "oc.alerts:write"])).toBe("view incidents and change alerts");
  });

  it("counts many: every scope of the catalog", () => {
    expect(accessPhrase([...IR_SCOPES, ...OC_SCOPES])).toBe(
      "view and change 15 kinds of incident response data and view and change 8 kinds of on-call data",
    );
    expect(scopeSummaryLine(["openid", "ir.incidents:read"])).toBe(
      "Sign-in: openid · Incident response: view incidents",
    );
  });
});

describe("scopesFromConsentForm: the consent form's boxes, read without JavaScript", () => {
  const requested = EXAMPLE;
  const everyBox = requested;
  const everyArea = ["signin", "ir", "oc"];

  it("every box and every area ticked → everything requested that the role can grant", () => {
    const granted = scopesFromConsentForm(requested, { scopes: everyBox, areas: everyArea }, member);
    expect(granted).toHaveLength(4 + 20 + 1);
    expect(granted).not.toContain("ir.services:write");
  });

  it("an unticked row → exactly that scope is left out", () => {
    const scopes = everyBox.filter((s) => s !== "ir.incidents:write");
    const granted = scopesFromConsentForm(requested, { scopes, areas: everyArea }, admin);
    expect(granted).toHaveLength(requested.length - 1);
    expect(granted).not.toContain("ir.incidents:write");
  });

  it("an unticked area switch → nothing of the area, even with all its rows ticked", () => {
    const granted = scopesFromConsentForm(requested, { scopes: everyBox, areas: ["signin", "oc"] }, admin);
    expect(granted).toEqual(["openid", "profile", "email", "offline_access", "oc.alerts:read"]);
  });

  it("an area switch with no row ticked grants nothing of it (the switch never adds)", () => {
    const granted = scopesFromConsentForm(requested, { scopes: ["openid"], areas: everyArea }, admin);
    expect(granted).toEqual(["openid"]);
  });

  it("ignores what was not requested, unknown areas, meta scopes and scopes above the role", () => {
    const granted = scopesFromConsentForm(
      ["ir.incidents:read"],
      { scopes: ["ir.incidents:read", "ir.incidents:write", "ir.all", "all"], areas: ["ir", "everything"] },
      member,
    );
    expect(granted).toEqual(["ir.incidents:read"]);
    expect(
      scopesFromConsentForm(["ir.services:write"], { scopes: ["ir.services:write"], areas: ["ir"] }, member),
    ).toEqual([]);
  });
});
