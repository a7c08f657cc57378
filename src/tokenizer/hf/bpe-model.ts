/**
 * tokenizer.json `model` of type BPE: a piece starts as one symbol per
 * character (bytes `<0xXX>` for characters outside the vocabulary when
 * byte_fallback is on, else `unk`), then the adjacent pair with the lowest
 * merge rank is merged, leftmost first on ties, until no pair merges.
 */
import { PairHeap } from "../heap.js";
import { utf8 } from "../unicode.js";

type Spec = { type?: string; [k: string]: unknown };

export class BPEModel {
  /** token string -> id */
  readonly vocab = new Map<string, number>();
  /** id -> token string (holes for ids only added tokens use) */
  readonly idToToken: string[] = [];
  private readonly merges = new Map<number, { rank: number; id: number }>();
  private readonly stride: number;
  readonly unk: number | null;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly byteIds: Int32Array;
  private readonly cache = new Map<string, number[]>();

  constructor(spec: Spec) {
    if (spec.type !== undefined && spec.type !== "BPE") {
      throw new Error(`tokenizer.json: unsupported model type "${spec.type}"; supported: BPE`);
    }
    for (const k of ["continuing_subword_prefix", "end_of_word_suffix"]) {
      if (spec[k]) throw new Error(`tokenizer.json: BPE option ${k} is not supported`);
    }
    const vocab = spec.vocab as Record<string, number> | undefined;
    if (!vocab || typeof vocab !== "object") throw new Error("tokenizer.json: model.vocab is missing");
    let maxId = -1;
    for (const [tok, id] of Object.entries(vocab)) {
      this.vocab.set(tok, id);
      this.idToToken[id] = tok;
      if (id > maxId) maxId = id;
    }
    this.stride = maxId + 1;
    const merges = (spec.merges as (string | [string, string])[] | undefined) ?? [];
    merges.forEach((m, rank) => {
      // older files write "a b", newer ones ["a", "b"]
      let a: string, b: string;
      if (Array.isArray(m)) [a, b] = m;
      else {
        const sp = m.indexOf(" ", 1);
        a = m.slice(0, sp);
        b = m.slice(sp + 1);
      }
      const ia = this.vocab.get(a),
        ib = this.vocab.get(b),
        id = this.vocab.get(a + b);
      if (ia === undefined || ib === undefined || id === undefined) {
        throw new Error(`tokenizer.json: merge #${rank} ${JSON.stringify(m)} refers to tokens not in the vocabulary`);
      }
      const key = ia * this.stride + ib;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id });
    });
    const unkTok = spec.unk_token;
    this.unk = typeof unkTok === "string" ? (this.vocab.get(unkTok) ?? null) : null;
    this.byteFallback = spec.byte_fallback === true;
    this.fuseUnk = spec.fuse_unk === true;
    this.ignoreMerges = spec.ignore_merges === true;
    this.byteIds = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const id = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
      if (id !== undefined) this.byteIds[b] = id;
    }
  }

  /** Append the ids of one pre-tokenized piece. */
  encode(piece: string, out: number[]): void {
    let ids = this.cache.get(piece);
    if (ids === undefined) {
      ids = this.merge(piece);
      if (this.cache.size >= 1 << 16) this.cache.clear();
      this.cache.set(piece, ids);
    }
    for (const id of ids) out.push(id);
  }

  private merge(piece: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.vocab.get(piece);
      if (whole !== undefined) return [whole];
    }
    // initial symbols
    const sym: number[] = [];
    let lastUnk = false;
    for (const ch of piece) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        sym.push(id);
        lastUnk = false;
        continue;
      }
      if (this.byteFallback) {
        const bytes = utf8(ch);
        let ok = true;
        for (const b of bytes) if (this.byteIds[b] < 0) ok = false;
        if (ok) {
          for (const b of bytes) sym.push(this.byteIds[b]);
          lastUnk = false;
          continue;
        }
      }
      if (this.unk === null)
        throw new Error(`tokenizer.json: character ${JSON.stringify(ch)} is not in the vocabulary and the model has no unk_token`);
      if (!(this.fuseUnk && lastUnk)) sym.push(this.unk);
      lastUnk = true;
    }
    const n = sym.length;
    const next = new Int32Array(n),
      prev = new Int32Array(n),
      size = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
      size[i] = 1;
    }
    const heap = new PairHeap();
    const tryAdd = (l: number, r: number) => {
      if (l < 0 || r < 0) return;
      const m = this.merges.get(sym[l] * this.stride + sym[r]);
      if (m !== undefined) heap.push(m.rank, l, r, size[l] + size[r]);
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);
    while (heap.pop()) {
      const l = heap.topLeft,
        r = heap.topRight;
      // stale: a side was merged away or grew since this pair was queued
      if (size[l] === 0 || size[r] === 0 || size[l] + size[r] !== heap.topSize || next[l] !== r) continue;
      sym[l] = this.merges.get(sym[l] * this.stride + sym[r])!.id;
      size[l] += size[r];
      size[r] = 0;
      next[l] = next[r];
      if (next[r] >= 0) prev[next[r]] = l;
      tryAdd(prev[l], l);
      tryAdd(l, next[l]);
    }
    const out: number[] = [];
    for (let i = n > 0 ? 0 : -1; i !== -1; i = next[i]) out.push(sym[i]);
    return out;
  }
}
