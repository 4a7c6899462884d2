/**
 * WriteBatch (platform/write-batch.ts): rows added within one window go to storage in one write;
 * no row is lost when that write fails or never settles (workerd cancels the continuations of a
 * request whose client went away), because each row's own request writes it again.
 */
import { describe, expect, it } from "vitest";
import { WriteBatch } from "../src/platform/write-batch";

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
