/**
 * Writes that follow a response (waitUntil), gathered per isolate: a row added while others wait
 * goes to storage with them in one write, so under load N requests make one storage call per
 * window, not N. Every request that adds a row waits until that row is written, so nothing is lost
 * when the isolate goes away. It never depends on another request to finish: workerd cancels the
 * continuations of a request whose client went away, so a request whose row was taken into another
 * request's write waits at most `waitMs` for it and, if that write fails or never settles, writes
 * its own row again. `write` must therefore be idempotent (an insert that ignores a row already there).
 */
import { atMost, GAVE_UP, sleep } from "./shared-work";

export class WriteBatch<Row> {
  private queue: Entry<Row>[] = [];

  constructor(
    private readonly write: (rows: Row[]) => Promise<void>,
    private readonly options: { windowMs: number; waitMs: number },
  ) {}

  /** Resolves once `row` is written (by this call or a batch it joined); hand it to waitUntil. */
  async add(row: Row): Promise<void> {
    const entry: Entry<Row> = { row, written: undefined };
    this.queue.push(entry);
    await sleep(this.options.windowMs);
    if (!entry.written) {
      // The first of the window to wake writes everything queued so far, its own row included.
      const taken = this.queue;
      this.queue = [];
      const written = this.write(taken.map((e) => e.row));
      for (const e of taken) e.written = written;
      // A failed batch (one bad row fails them all) leaves each row to its own request.
      return written.catch(() => this.write([row]));
    }
    const landed = await atMost(entry.written, this.options.waitMs).then(
      (outcome) => outcome !== GAVE_UP,
      () => false,
    );
    if (!landed) await this.write([row]);
  }
}

interface Entry<Row> {
  row: Row;
  written: Promise<void> | undefined;
}
