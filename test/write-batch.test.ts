/**
 * WriteBatch (platform/write-batch.ts): rows added within one window go to storage in one write;
 * no row is lost when that write fails or never settles (workerd cancels the continuations of a
 * request whose client went away), because each row's own request writes it again.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { WriteBatch } from "../src/platform/write-batch";
import { recordAuditLater } from "../src/store/audit";
import { dbOf } from "../src/store/db";
import { indexTokenFamily } from "../src/store/token-families";

describe("WriteBatch", () => {
  it("rows added within the window are written together, once, and every add settles after it", async () => {
    const writes: string[][] = [];
    const batch = new WriteBatch<string>(
      async (rows) => {
        writes.push(rows);
      },
      { windowMs: 20, waitMs: 1000 },
    );
    await Promise.all(["a", "b", "c"].map((row) => batch.add(row)));
    expect(writes).toEqual([["a", "b", "c"]]);
    await batch.add("d");
    expect(writes).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("a failed batch leaves each row to its own request: all are written", async () => {
    const landed: string[] = [];
    const batch = new WriteBatch<string>(
      async (rows) => {
        if (rows.length > 1) throw new Error("one bad row fails the batch");
        landed.push(...rows);
      },
      { windowMs: 10, waitMs: 1000 },
    );
    await Promise.all(["a", "b", "c"].map((row) => batch.add(row)));
    expect(landed.sort()).toEqual(["a", "b", "c"]);
  });

  it("a batch write that never settles: the other rows are written by their own requests after waitMs", async () => {
    const landed: string[] = [];
    let calls = 0;
    const batch = new WriteBatch<string>(
      (rows) => {
        calls++;
        if (calls === 1) return new Promise<void>(() => {}); // its request went away
        landed.push(...rows);
        return Promise.resolve();
      },
      { windowMs: 10, waitMs: 50 },
    );
    const stuck = batch.add("a"); // takes the window's rows and never finishes
    const others = [batch.add("b"), batch.add("c")];
    await Promise.all(others);
    expect(landed.sort()).toEqual(["b", "c"]);
    expect(await Promise.race([stuck.then(() => "settled"), Promise.resolve("pending")])).toBe("pending");
  });
});

/**
 * The test D1 binding, counting its batches. With `loseFirstAnswer`, the first batch commits and then
 * fails, as when the connection drops after D1 wrote: the writer cannot know the rows landed, so
 * each request writes its row again.
 */
function countingD1(options: { loseFirstAnswer: boolean }): { d1: D1Database; batches: () => number } {
  let batches = 0;
  const d1 = new Proxy(env.DB, {
    get(target, key) {
      if (key === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          if (++batches === 1 && options.loseFirstAnswer) throw new Error("connection lost after the batch committed");
          return results;
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { d1, batches: () => batches };
}

const d1LosingFirstAnswer = () => countingD1({ loseFirstAnswer: true });

describe("rows written later to D1, when a batch's outcome is unknown", () => {
  it("audit events: each event is one row, though its batch committed and was written again row by row", async () => {
    const { d1, batches } = d1LosingFirstAnswer();
    const clientId = `retry-${crypto.randomUUID()}`;
    const events = ["a", "b", "c"].map((n) => ({ kind: "token.revoked" as const, clientId, detail: { n } }));
    await Promise.all(events.map((e) => recordAuditLater(dbOf(d1), e)));
    expect(batches()).toBe(4); // the lost batch, then one write per event
    const { results } = await env.DB.prepare("SELECT detail FROM audit_events WHERE client_id = ?")
      .bind(clientId)
      .all<{ detail: string }>();
    expect(results.map((r) => JSON.parse(r.detail).n).sort()).toEqual(["a", "b", "c"]);
  });

  it("the family index: each family is one row, though its batch committed and was written again row by row", async () => {
    const { d1, batches } = d1LosingFirstAnswer();
    const clientId = `retry-${crypto.randomUUID()}`;
    const ids = ["f1", "f2", "f3"].map((f) => `${f}-${clientId}`);
    await Promise.all(
      ids.map((id) =>
        indexTokenFamily(dbOf(d1), { id, userId: "u", clientId, teamId: "t", scopes: ["openid"], createdAt: 1 }),
      ),
    );
    expect(batches()).toBe(4);
    const { results } = await env.DB.prepare("SELECT id FROM token_families WHERE client_id = ?").bind(clientId).all();
    expect(results.map((r) => r.id).sort()).toEqual(ids.sort());
  });

  it("40 rows of one window go in one D1 batch: each statement stays within D1's 100 bound values", async () => {
    const { d1, batches } = countingD1({ loseFirstAnswer: false });
    const clientId = `many-${crypto.randomUUID()}`;
    await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        recordAuditLater(dbOf(d1), { kind: "token.revoked", clientId, detail: { n } }),
      ),
    );
    // A statement over the limit would fail the batch, and every row would be written again on its own.
    expect(batches()).toBe(1);
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE client_id = ?")
      .bind(clientId)
      .all<{ n: number }>();
    expect(results[0]?.n).toBe(40);
  });
});
