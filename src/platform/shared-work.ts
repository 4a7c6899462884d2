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
      const outcome = await atMost(shared, this.waitMs);
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

export const GAVE_UP: unique symbol = Symbol("gave up");

/**
 * `work`'s outcome, or GAVE_UP once `ms` have passed (its rejection passes through). For waiting on
 * work another request started, which may never settle (see above); the timer is cleared either way.
 */
export async function atMost<T>(work: Promise<T>, ms: number): Promise<T | typeof GAVE_UP> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<typeof GAVE_UP>((resolve) => {
    timer = setTimeout(() => resolve(GAVE_UP), ms);
  });
  return Promise.race([work, gaveUp]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` (a timer, so workerd's clock has moved on when it does). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
