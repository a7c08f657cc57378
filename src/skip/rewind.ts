/**
 * Loop rewind (this project's addition to ffn-skip-linear; docs/method.md).
 *
 * Skipping FFNs makes a small model fall into repetition loops, and a dense
 * guard that only reacts once the repeat is in the context cannot get it out
 * again: dense compute continues a loop it sees (results/method/README.md,
 * "Screening"). So the repeat is taken back before it enters the context:
 * when a token made by a step that skipped FFNs completes an n-gram already
 * generated within the last GUARD_LOOKBACK tokens, the tokens of that n-gram
 * made under skipping are discarded, and the next `hold` steps (at least as
 * many as were discarded) recompute them dense. If the dense model writes the
 * repeat too, it stays: the output repeats only where the full model would,
 * given the same context. Tokens made dense are never taken back, so a loop
 * the dense model itself chooses costs one recomputed token per repeat.
 *
 * The discarded steps are work done for nothing; the skip counter charges
 * them (SkipCounter.discard), so the reported ratio is FFN work saved per
 * kept token.
 */
import { endsInRepeat } from "./guarded.js";

export class RewindGuard {
  /** per kept generated token: made by a step that skipped FFNs */
  private readonly bySkip: boolean[] = [];
  private holdLeft = 0;
  /** tokens taken back so far, and how many times */
  takenBack = 0;
  rewinds = 0;

  /**
   * @param n n-gram length whose repeat by a skipping step is taken back (≥ 1)
   * @param hold dense steps after a rewind (at least the tokens taken back)
   */
  constructor(
    readonly n: number,
    readonly hold: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`rewind: n-gram length must be an integer ≥ 1, got ${n}`);
    if (!Number.isInteger(hold) || hold < 0) throw new RangeError(`rewind: hold must be an integer ≥ 0, got ${hold}`);
  }

  /**
   * A token was appended to `out` (every generated token so far, kept ones
   * only); `skipped` says whether the step that made it skipped any FFN.
   * Returns how many trailing tokens of `out` to take back (0: keep all).
   */
  accept(out: readonly number[], skipped: boolean): number {
    this.bySkip.push(skipped);
    if (this.bySkip.length !== out.length)
      throw new Error(`rewind: ${out.length} generated tokens but ${this.bySkip.length} recorded (accept must see every token)`);
    if (!skipped || !endsInRepeat(out, this.n)) return 0;
    // back to the earliest token of the repeated n-gram that skipping made
    let back = 0;
    for (let j = 1; j <= this.n; j++) if (this.bySkip[out.length - j]) back = j;
    this.bySkip.length -= back;
    this.holdLeft = Math.max(this.hold, back);
    this.takenBack += back;
    this.rewinds++;
    return back;
  }

  /** Whether the next decode step must run dense; counts the hold down. */
  nextDense(): boolean {
    if (this.holdLeft === 0) return false;
    this.holdLeft--;
    return true;
  }

  /** The longest take-back possible: output must be held back this many tokens before it is final. */
  get lookBehind(): number {
    return this.n;
  }

  reset(): void {
    this.bySkip.length = 0;
    this.holdLeft = 0;
    this.takenBack = 0;
    this.rewinds = 0;
  }
}
