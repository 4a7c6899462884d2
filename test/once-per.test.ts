import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import { oncePer } from "../src/platform/once-per";
import { dbOf } from "../src/store/db";

describe("oncePer", () => {
  it("makes a value once per key object, and a new one for another key", () => {
    let made = 0;
    const of = oncePer((key: { name: string }) => ({ name: key.name, n: ++made }));
    const a = { name: "a" };
    const b = { name: "a" };
    expect(of(a)).toBe(of(a));
    expect(of(b)).not.toBe(of(a));
    expect(made).toBe(2);
  });

  it("does not keep a failure: a key whose make threw is made again", () => {
    let calls = 0;
    const of = oncePer((_key: object) => {
      calls++;
      if (calls === 1) throw new Error("first call fails");
      return "made";
    });
    const key = {};
    expect(() => of(key)).toThrow("first call fails");
    expect(of(key)).toBe("made");
  });

  it("gives one settings object per env and one drizzle instance per D1 binding", () => {
    expect(settingsOf(env)).toBe(settingsOf(env));
    expect(dbOf(env.DB)).toBe(dbOf(env.DB));
    expect(settingsOf({ ...env })).not.toBe(settingsOf(env));
  });
});
