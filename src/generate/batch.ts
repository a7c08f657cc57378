/**
 * Continuous batching: up to `parallel` sequences decode together, one pass
 * over the weights per step (Model.forwardBatch), each in its own KV cache
 * slot with its own sampler and skip policy. A new sequence's prompt goes in
 * chunks of `chunk` tokens beside the decoding rows, so a running stream
 * stalls at most one chunk's worth per step; a sequence that ends (or is
 * aborted) frees its slot before the next step. The single-sequence paths
 * share the slots: generateStream runs on slot 0 between batches (`acquire`),
 * and synchronous work such as perplexity borrows whichever slot is free
 * (`borrowSlot`), so a model holds exactly `parallel` KV caches.
 */
import type { Model, SeqStep } from "../model/model.js";
import type { Tokenizer } from "../tokenizer/types.js";
import type { GenerateOptions, GenerateResult } from "./generate.js";
import { Sequence } from "./sequence.js";

export interface BatchOptions {
  /** prompt tokens a new sequence feeds per step (default 32, at most the model's batch size less the other rows) */
  chunk?: number;
  /**
   * "mixed" (default): a prompt chunk rides in the same step as the decoding
   * rows (one read of the weights for both); "first": a prompt chunk gets a
   * step of its own, so a new request's first token does not wait for the
   * others' rows (lower time to first token when the batch is compute-bound).
   * Either way a running stream waits at most one chunk per step.
   */
  prefill?: "mixed" | "first";
}

/** A sequence in the batch, and what its consumer has not read yet. */
interface Member {
  seq: Sequence;
  opts: GenerateOptions;
  slot: number;
  /** prompt tokens fed so far */
  fed: number;
  admitted: number;
  decodeStart: number;
  chunks: string[];
  wake: (() => void) | null;
  done: boolean;
  /** the consumer stopped reading: end it at the next step */
  abandoned: boolean;
  error?: unknown;
}

/** Step counts since the batch was made: for benchmarks and tests. */
export interface BatchStats {
  steps: number;
  /** rows fed, decode and prompt */
  decodeRows: number;
  promptRows: number;
}

export class Batch {
  readonly chunk: number;
  readonly prefill: "mixed" | "first";
  /** sequences that may decode together: the model's KV cache slots */
  readonly parallel: number;
  readonly stats: BatchStats = { steps: 0, decodeRows: 0, promptRows: 0 };
  private readonly free: number[] = [];
  private readonly waiting: Member[] = [];
  private readonly active: Member[] = [];
  private loop: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  /** exclusive holders (acquire) waiting or running: no admission meanwhile */
  private held = 0;
  private exclusive: Promise<void> = Promise.resolve();

  constructor(
    readonly model: Model,
    readonly tokenizer: Tokenizer,
    opts: BatchOptions = {},
  ) {
    this.parallel = model.kv.slots;
    this.chunk = opts.chunk ?? 32;
    if (!Number.isInteger(this.chunk) || this.chunk < 1 || this.chunk > model.batchSize) {
      throw new RangeError(`prompt chunk must be an integer in [1, ${model.batchSize}] (the batch size), got ${opts.chunk}`);
    }
    this.prefill = opts.prefill ?? "mixed";
    if (this.prefill !== "mixed" && this.prefill !== "first") throw new Error(`prefill must be "mixed" or "first", got ${opts.prefill}`);
    // slot 0 is handed out last, so synchronous borrowers usually find it free
    this.free.push(0);
    for (let s = 1; s < this.parallel; s++) this.free.push(s);
  }

  /** Sequences decoding or in their prompt, and those waiting for a slot. */
  get running(): number {
    return this.active.length;
  }
  get queued(): number {
    return this.waiting.length;
  }
  /** Slots free right now. */
  get freeSlots(): number {
    return this.free.length;
  }

  /**
   * Generate for `promptIds` in the batch: text chunks as they come, the full
   * result as the return value. `opts.policy` must be this sequence's own
   * instance. Stopping iteration early aborts the sequence.
   */
  async *stream(promptIds: readonly number[], opts: GenerateOptions): AsyncGenerator<string, GenerateResult> {
    if ([...this.active, ...this.waiting].some((m) => m.seq.policy === opts.policy)) {
      throw new Error("this skip policy object is already in use by another running generation; give each generation its own");
    }
    const m: Member = {
      seq: new Sequence(this.model, this.tokenizer, promptIds, opts),
      opts,
      slot: -1,
      fed: 0,
      admitted: 0,
      decodeStart: 0,
      chunks: [],
      wake: null,
      done: false,
      abandoned: false,
    };
    this.waiting.push(m);
    this.kick();
    try {
      for (;;) {
        while (m.chunks.length) yield m.chunks.shift()!;
        if (m.done) break;
        await new Promise<void>((r) => {
          m.wake = r;
        });
      }
      if (m.error) throw m.error;
      return m.seq.result();
    } finally {
      if (!m.done) {
        m.abandoned = true;
        this.kick();
      }
    }
  }

  /**
   * Take a free KV cache slot for synchronous single-sequence work (it runs
   * between two batch steps, so nothing else touches the slot meanwhile);
   * `giveBack` returns it. Throws when every slot is decoding.
   */
  borrowSlot(): number {
    const s = this.free.pop();
    if (s === undefined) {
      throw new Error(
        `all ${this.parallel} KV cache slots are in use by running generations; wait for one to finish, or load the model with a larger \`parallel\``,
      );
    }
    return s;
  }

  /** Return a slot taken with `borrowSlot`. */
  giveBack(slot: number): void {
    this.free.push(slot);
    this.kick();
  }

  /**
   * Wait until the batch is empty and hold it so: nothing is admitted until
   * the returned release is called (for the single-sequence paths on slot 0).
   */
  async acquire(): Promise<() => void> {
    const prev = this.exclusive;
    let release!: () => void;
    this.exclusive = new Promise<void>((r) => {
      release = r;
    });
    this.held++;
    await prev;
    if (this.loop) await new Promise<void>((r) => this.idleWaiters.push(r));
    // the batch is empty, so slot 0 is free: keep it from synchronous borrowers meanwhile
    this.free.splice(this.free.indexOf(0), 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free.unshift(0);
      this.held--;
      release();
      this.kick();
    };
  }

  private kick(): void {
    if (this.loop) return;
    if (!this.active.length && (!this.waiting.length || this.held)) {
      // nothing to run; queued sequences may have been abandoned meanwhile
      this.reapWaiting();
      return;
    }
    this.loop = this.run().finally(() => {
      this.loop = null;
      for (const r of this.idleWaiters.splice(0)) r();
      if (this.waiting.length && !this.held) this.kick();
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      this.reapWaiting();
      for (const m of [...this.active]) if (m.abandoned || m.opts.signal?.aborted) this.end(m, "aborted");
      while (!this.held && this.free.length && this.waiting.length) this.admit(this.waiting.shift()!);
      if (!this.active.length) return;
      try {
        this.step();
      } catch (e) {
        for (const m of [...this.active]) {
          m.error = e;
          this.end(m, "aborted");
        }
      }
      // I/O, cancellation and new arrivals get a turn between steps
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Waiting sequences whose consumer left or whose signal aborted end without running. */
  private reapWaiting(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const m = this.waiting[i];
      if (!m.abandoned && !m.opts.signal?.aborted) continue;
      this.waiting.splice(i, 1);
      m.seq.finish = "aborted";
      m.done = true;
      this.wake(m);
    }
  }

  private admit(m: Member): void {
    m.slot = this.free.pop()!;
    m.admitted = performance.now();
    m.seq.policy.reset();
    this.model.kv.truncate(0, m.slot);
    this.active.push(m);
  }

  /** End `m` (`reason` unless it already ended): flush its text, free its slot at once. */
  private end(m: Member, reason: "aborted" | "length"): void {
    const rest = m.seq.end(reason);
    if (rest) m.chunks.push(rest);
    if (m.decodeStart) m.seq.decodeMs = performance.now() - m.decodeStart;
    m.done = true;
    this.active.splice(this.active.indexOf(m), 1);
    this.free.push(m.slot);
    this.wake(m);
  }

  private wake(m: Member): void {
    const w = m.wake;
    m.wake = null;
    w?.();
  }

  /**
   * One forward step: every decoding sequence's last token (unless prefill
   * is "first" and a prompt is pending), then one prompt chunk of the first
   * sequence still in its prompt (if rows are left).
   */
  private step(): void {
    const steps: SeqStep[] = [],
      who: Member[] = [];
    const p = this.active.find((m) => m.fed < m.seq.promptIds.length);
    for (const m of this.active) {
      if (p && this.prefill === "first") break;
      const s = m.seq,
        P = s.promptIds.length;
      if (m.fed < P) continue;
      const k = s.out.length - 1;
      steps.push({ slot: m.slot, tokens: [s.lastToken], pos: P + k, policy: s.policy, phase: "decode", genIndex: k, logits: "last" });
      who.push(m);
    }
    const room = this.model.batchSize - steps.length;
    if (p && room > 0) {
      const P = p.seq.promptIds.length,
        len = Math.min(this.chunk, room, P - p.fed);
      const last = p.fed + len === P;
      steps.push({
        slot: p.slot,
        tokens: p.seq.promptIds.slice(p.fed, p.fed + len),
        pos: p.fed,
        policy: p.seq.policy,
        phase: "prompt",
        logits: last ? "last" : "none",
      });
      who.push(p);
    }
    const logits = this.model.forwardBatch(steps);
    this.stats.steps++;
    const now = performance.now();
    for (let i = 0; i < who.length; i++) {
      const m = who[i],
        s = m.seq;
      if (steps[i].phase === "prompt") {
        m.fed += steps[i].tokens.length;
        this.stats.promptRows += steps[i].tokens.length;
        if (m.fed < s.promptIds.length) continue;
        s.promptMs = now - m.admitted;
        m.decodeStart = now;
      } else {
        s.decodeSteps++;
        this.stats.decodeRows++;
        m.opts.onToken?.(s.lastToken, s.out.length - 1);
      }
      const emit = s.accept(logits[i]!);
      if (emit) m.chunks.push(emit);
      if (s.finish) this.end(m, "length");
      else if (emit) this.wake(m);
    }
  }
}
