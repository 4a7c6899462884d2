/**
 * SharedWork: concurrent callers share one piece of work (one metadata-document fetch per URL), but
 * a shared piece that never settles — workerd cancels the continuations of a request whose client
 * went away — must not hang every later caller.
 */
import { describe, expect, it } from "vitest";
import { SharedWork } from "../src/platform/shared-work";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("SharedWork", () => {
  it("concurrent callers for one key share one piece of work", async () => {
    const shared = new SharedWork<string>(1000);
    const pending = deferred<string>();
    let started = 0;
    const work = () => {
      started++;
      return pending.promise;
    };
    const calls = [shared.run("k", work), shared.run("k", work), shared.run("k", work)];
    pending.resolve("done");
    expect(await Promise.all(calls)).toEqual(["done", "done", "done"]);
    expect(started).toBe(1);
  });

  it("different keys do not share", async () => {
    const shared = new SharedWork<string>(1000);
    expect(await Promise.all([shared.run("a", async () => "A"), shared.run("b", async () => "B")])).toEqual(["A", "B"]);
  });

  it("settled work is not reused: the next caller starts afresh", async () => {
    const shared = new SharedWork<number>(1000);
    let n = 0;
    expect(await shared.run("k", async () => ++n)).toBe(1);
    expect(await shared.run("k", async () => ++n)).toBe(2);
  });

  it("a caller gives up on work that never settles, does its own, and later callers share that", async () => {
    const shared = new SharedWork<string>(50);
    const stuck = shared.run("k", () => new Promise<string>(() => {})); // never settles
    const startedAt = Date.now();
    let ownRuns = 0;
    const own = deferred<string>();
    const waiter = shared.run("k", () => {
      ownRuns++;
      return own.promise;
    });
    // The waiter's own work has started once the wait ran out; a caller arriving now shares it.
    await new Promise((r) => setTimeout(r, 80));
    expect(ownRuns).toBe(1);
    const later = shared.run("k", () => Promise.resolve("not shared"));
    own.resolve("fresh");
    expect(await waiter).toBe("fresh");
    expect(await later).toBe("fresh");
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(45);
    void stuck;
  });

  it("a failure reaches every waiter and is not kept", async () => {
    const shared = new SharedWork<string>(1000);
    const pending = deferred<string>();
    const first = shared.run("k", () => pending.promise);
    const second = shared.run("k", () => Promise.resolve("unused"));
    pending.reject(new Error("fetch failed"));
    await expect(first).rejects.toThrow("fetch failed");
    await expect(second).rejects.toThrow("fetch failed");
    expect(await shared.run("k", async () => "next")).toBe("next");
  });
});
