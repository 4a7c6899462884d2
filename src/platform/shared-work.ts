/**
 * Concurrent callers asking for the same key share one piece of work, but never wait on it for
 * longer than `waitMs`: workerd cancels a request's continuations on a promise whose own request was
 * cancelled, so work started by a request whose client went away may never settle for anyone else.
 * A caller that gives up starts its own work, which later callers then share instead.
 */
export class SharedWork<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(private readonly waitMs: number) {}

  async run(key: string, work: () => Promise<T>): Promise<T> {
    const shared = this.inFlight.get(key);
    if (shared) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<typeof GAVE_UP>((resolve) => {
        timer = setTimeout(() => resolve(GAVE_UP), this.waitMs);
      });
      const outcome = await Promise.race([shared, gaveUp]).finally(() => clearTimeout(timer));
      if (outcome !== GAVE_UP) return outcome;
      if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
    }
    const own = work().finally(() => {
      if (this.inFlight.get(key) === own) this.inFlight.delete(key);
    });
    this.inFlight.set(key, own);
    return own;
  }
}

const GAVE_UP: unique symbol = Symbol("gave up");
