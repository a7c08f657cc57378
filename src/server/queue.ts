/**
 * Admission into the engine's batch: up to `slots` jobs run at once (the
 * sequences the batch decodes together), up to `capacity` more wait in
 * arrival order; more are refused (the server answers 429). A waiting job
 * whose signal aborts (its client went away) leaves the queue without running.
 */
export class QueueFullError extends Error {
  constructor(
    readonly capacity: number,
    readonly retryAfterS: number,
  ) {
    super(`server busy: ${capacity} requests are already waiting; retry in about ${retryAfterS} s`);
  }
}

interface Waiter {
  start: () => void;
  cancel: (e: Error) => void;
}

export class JobQueue {
  private readonly waiting: Waiter[] = [];
  private runningJobs = 0;
  /** mean job duration (exponential average), for Retry-After */
  private meanMs = 1000;

  constructor(
    readonly capacity: number,
    readonly slots = 1,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`queue capacity must be an integer ≥ 0, got ${capacity}`);
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`parallel slots must be an integer ≥ 1, got ${slots}`);
  }

  get running(): number {
    return this.runningJobs;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /** Seconds a refused client should wait: the queue ahead of it at the mean job time, `slots` at a time. */
  retryAfterS(): number {
    return Math.max(1, Math.ceil(((this.waiting.length + 1) * this.meanMs) / this.slots / 1000));
  }

  /** Run `job` when its turn comes; throws QueueFullError at once when the queue is full. */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.runningJobs < this.slots && this.waiting.length === 0) {
      this.runningJobs++;
    } else {
      if (this.waiting.length >= this.capacity) throw new QueueFullError(this.capacity, this.retryAfterS());
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = {
          start: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
          cancel: (e) => {
            signal?.removeEventListener("abort", onAbort);
            reject(e);
          },
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason ?? new Error("aborted while queued"));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(w);
      });
    }
    // here this job holds a slot (taken above or handed over by a finished job)
    const t0 = performance.now();
    try {
      return await job();
    } finally {
      this.meanMs = 0.7 * this.meanMs + 0.3 * (performance.now() - t0);
      // hand the slot straight to the next waiter so no new arrival can slip in between
      const next = this.waiting.shift();
      if (next) next.start();
      else this.runningJobs--;
    }
  }

  /** Refuse every waiting job with `e` (shutdown). */
  cancelWaiting(e: Error): void {
    for (const w of this.waiting.splice(0)) w.cancel(e);
  }
}
