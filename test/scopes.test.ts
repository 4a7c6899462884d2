import { describe, expect, it } from "vitest";
import {
  effectiveScopes,
  expandMetaScopes,
  GRANULAR_SCOPES,
  IR_SCOPES,
  OC_SCOPES,
  parseScope,
  roleCeiling,
} from "../src/oauth/scopes";

describe("scope catalog", () => {
  it("has the 46 granular scopes README 'Scopes' names, each with :read and :write", () => {
    expect(GRANULAR_SCOPES).toHaveLength(46);
    expect(IR_SCOPES).toHaveLength(30);
    expect(OC_SCOPES).toHaveLength(16);
    expect(GRANULAR_SCOPES).toContain("ir.incidents:write");
    expect(GRANULAR_SCOPES).toContain("oc.shift_overrides:read");
  });

  it("parses scope strings per RFC 6749 §3.3 (space-delimited, de-duplicated, case-sensitive)", () => {
    expect(parseScope("openid  email openid")).toEqual(["openid", "email"]);
    expect(parseScope("")).toEqual([]);
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope('openid "quoted"')).toHaveProperty("invalid");
    expect(parseScope("openid\u0000")).toHaveProperty("invalid");
    expect(parseScope("OpenID")).toEqual(["OpenID"]); // case-sensitive: not the openid scope
  });

  it("expands meta scopes", () => {
    expect(expandMetaScopes(["all"]).sort()).toEqual([...GRANULAR_SCOPES].sort());
    expect(expandMetaScopes(["ir.all"]).sort()).toEqual([...IR_SCOPES].sort());
    expect(expandMetaScopes(["oc.all", "openid"]).sort()).toEqual([...OC_SCOPES, "openid"].sort());
  });
});

describe("role ceilings", () => {
  it("admin holds everything; observer reads only; none holds no granular scope", () => {
    const admin = roleCeiling("admin", "admin");
    for (const s of GRANULAR_SCOPES) expect(admin.has(s)).toBe(true);
    const observer = roleCeiling("observer", "observer");
    for (const s of GRANULAR_SCOPES) expect(observer.has(s)).toBe(s.endsWith(":read"));
    const none = roleCeiling("none", "none");
    expect(GRANULAR_SCOPES.filter((s) => none.has(s))).toEqual([]);
    expect(none.has("openid")).toBe(true);
  });

  it("ir.* follows the incident role and oc.* the on-call role independently", () => {
    const c = roleCeiling("admin", "none");
    expect(c.has("ir.services:write")).toBe(true);
    expect(c.has("oc.alerts:read")).toBe(false);
    const member = roleCeiling("member", "responder");
    expect(member.has("ir.incidents:write")).toBe(true);
    expect(member.has("ir.services:write")).toBe(false);
    expect(member.has("oc.alerts:write")).toBe(true);
    expect(member.has("oc.alert_sources:write")).toBe(false);
  });

  it("a scope never lifts a user above their role (effective = granted ∩ ceiling)", () => {
    const granted = ["openid", "ir.incidents:write", "ir.incidents:read", "oc.schedules:write"];
    expect(effectiveScopes(granted, roleCeiling("observer", "observer"))).toEqual(["openid", "ir.incidents:read"]);
  });
});
