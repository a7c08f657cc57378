/**
 * A Hugging Face tokenizer.json (+ tokenizer_config.json) as a {@link Tokenizer}:
 * added tokens -> normalizer -> pre-tokenizer -> BPE -> post-processor (BOS/EOS),
 * and decoder for the way back. Reproduces the ids of the `tokenizers` library.
 */
import type { DecodeOptions, EncodeOptions, StreamDecoder, Tokenizer } from "../types.js";
import { wellFormed } from "../unicode.js";
import { AddedMatcher, type AddedToken } from "./added.js";
import { BPEModel } from "./bpe-model.js";
import { buildDecoder, type Decoder } from "./decoders.js";
import { buildNormalizer, type Normalizer } from "./normalizers.js";
import { buildPreTokenizer, type Piece, type PreTokenizer } from "./pre-tokenizers.js";

type Json = Record<string, unknown>;

// special tokens whose text ends a turn in the chat formats ffnskip knows
const EOG_NAMES = ["<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "</s>"];

/** `"<s>"` or `{ "content": "<s>" }` as tokenizer_config.json writes special tokens. */
function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return null;
}

/** Special tokens a TemplateProcessing post-processor puts before / after a single sequence. */
function templateSpecials(pp: Json | null | undefined): { before: string | null; after: string | null } {
  if (!pp) return { before: null, after: null };
  if (pp.type === "Sequence") {
    for (const p of (pp.processors as Json[]) ?? []) {
      const r = templateSpecials(p);
      if (r.before !== null || r.after !== null) return r;
    }
    return { before: null, after: null };
  }
  if (pp.type !== "TemplateProcessing" || !Array.isArray(pp.single)) return { before: null, after: null };
  const single = pp.single as Json[];
  const sp = (e: Json | undefined) => ((e?.SpecialToken as Json | undefined)?.id as string | undefined) ?? null;
  return { before: sp(single[0]), after: single.length > 1 ? sp(single[single.length - 1]) : null };
}

export class HFTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number | null;
  readonly eos: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly eogIds: ReadonlySet<number>;
  /** the chat template from tokenizer_config.json, if any */
  readonly chatTemplate: string | null;
  private readonly model: BPEModel;
  private readonly normalizer: Normalizer | null;
  private readonly pre: PreTokenizer | null;
  private readonly decoder: Decoder;
  private readonly added = new Map<number, AddedToken>();
  // matchers: [raw text, normalized text] x [with special tokens, without]
  private readonly rawAll: AddedMatcher;
  private readonly rawPlain: AddedMatcher;
  private readonly normAll: AddedMatcher;
  private readonly normPlain: AddedMatcher;

  /**
   * @param tok parsed tokenizer.json
   * @param cfg parsed tokenizer_config.json (or null)
   * @param modelCfg parsed config.json (or null): fallback bos/eos ids
   */
  constructor(
    tok: Json,
    cfg: Json | null,
    modelCfg: Json | null = null,
    readonly source = "tokenizer.json",
  ) {
    this.model = new BPEModel((tok.model ?? {}) as Json);
    this.normalizer = buildNormalizer(tok.normalizer as Json | null);
    this.pre = buildPreTokenizer(tok.pre_tokenizer as Json | null);
    this.decoder = buildDecoder(tok.decoder as Json | null);
    const list: AddedToken[] = [];
    for (const a of (tok.added_tokens as Json[] | undefined) ?? []) {
      const t: AddedToken = {
        id: Number(a.id),
        content: String(a.content),
        special: a.special === true,
        normalized: a.normalized === true,
        lstrip: a.lstrip === true,
        rstrip: a.rstrip === true,
        singleWord: a.single_word === true,
      };
      list.push(t);
      this.added.set(t.id, t);
    }
    this.rawAll = new AddedMatcher(list.filter((t) => !t.normalized));
    this.rawPlain = new AddedMatcher(list.filter((t) => !t.normalized && !t.special));
    // "normalized" tokens are looked for in normalized text, so by their normalized content (Rust does the same)
    const normed = list
      .filter((t) => t.normalized)
      .map((t) => ({ ...t, content: this.normalizer ? this.normalizer(t.content) : t.content }));
    this.normAll = new AddedMatcher(normed);
    this.normPlain = new AddedMatcher(normed.filter((t) => !t.special));
    let n = this.model.idToToken.length;
    for (const id of this.added.keys()) n = Math.max(n, id + 1);
    this.vocabSize = n;

    const c = cfg ?? {};
    const idOf = (text: string | null): number | null => {
      if (text === null) return null;
      for (const t of this.added.values()) if (t.content === text) return t.id;
      return this.model.vocab.get(text) ?? null;
    };
    const firstId = (v: unknown): number | null =>
      Array.isArray(v) ? (typeof v[0] === "number" ? v[0] : null) : typeof v === "number" ? v : null;
    const tpl = templateSpecials(tok.post_processor as Json | null);
    this.bos = idOf(tokenText(c.bos_token)) ?? idOf(tpl.before) ?? firstId(modelCfg?.bos_token_id);
    this.eos = idOf(tokenText(c.eos_token)) ?? firstId(modelCfg?.eos_token_id);
    // tokenizer_config.json's flags win (transformers rebuilds the post-processor from them)
    this.addBos = this.bos !== null && (typeof c.add_bos_token === "boolean" ? c.add_bos_token : tpl.before !== null);
    this.addEos = this.eos !== null && (typeof c.add_eos_token === "boolean" ? c.add_eos_token : tpl.after !== null);
    const eog = new Set<number>();
    if (this.eos !== null) eog.add(this.eos);
    const cfgEos = modelCfg?.eos_token_id;
    for (const id of Array.isArray(cfgEos) ? cfgEos : [cfgEos]) if (typeof id === "number") eog.add(id);
    for (const t of this.added.values()) if (t.special && EOG_NAMES.includes(t.content)) eog.add(t.id);
    this.eogIds = eog;
    this.chatTemplate = typeof c.chat_template === "string" ? c.chat_template : null;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new Error(`encode expects a string, got ${typeof text}`);
    const parseSpecial = opts.parseSpecial ?? false,
      addSpecial = opts.addSpecial ?? true;
    const out: number[] = [];
    if (addSpecial && this.addBos) out.push(this.bos!);
    const raw = wellFormed(text);
    // 1. tokens matched on the raw text, 2. normalize each fragment, 3. tokens matched on normalized text
    const rawFrags = (parseSpecial ? this.rawAll : this.rawPlain).split(raw);
    const norm = parseSpecial ? this.normAll : this.normPlain;
    for (let i = 0; i < rawFrags.length; i++) {
      const f = rawFrags[i];
      if (typeof f === "number") {
        out.push(f);
        continue;
      }
      // only text at the very start of the input counts as "first" (Metaspace prepend_scheme)
      const atStart = i === 0;
      const normalized = this.normalizer ? this.normalizer(f) : f;
      let first = true;
      for (const g of norm.split(normalized)) {
        if (typeof g === "number") {
          out.push(g);
          first = false;
          continue;
        }
        const pieces: Piece[] = [{ s: g, atStart: atStart && first }];
        first = false;
        for (const p of this.pre ? this.pre(pieces) : pieces) if (p.s.length > 0) this.model.encode(p.s, out);
      }
    }
    if (addSpecial && this.addEos) out.push(this.eos!);
    return out;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`token id ${id} is out of range (vocabulary has ${this.vocabSize} tokens)`);
    }
  }

  /** true for special added tokens (BOS, EOS, chat markers) */
  isSpecial(id: number): boolean {
    return this.added.get(id)?.special === true;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecial ?? false;
    const toks: string[] = [];
    for (const id of ids) {
      this.checkId(id);
      if (skip && this.isSpecial(id)) continue;
      const t = this.decodeString(id);
      if (t !== undefined) toks.push(t);
    }
    return this.decoder(toks).join("");
  }

  /** The string the decoder sees for id: as the Rust library, an added token "normalized" passes through the normalizer. */
  private decodeString(id: number): string | undefined {
    const a = this.added.get(id);
    if (a === undefined) return this.model.idToToken[id];
    return a.normalized && this.normalizer ? this.normalizer(a.content) : a.content;
  }

  tokenToPiece(id: number): string {
    this.checkId(id);
    return this.added.get(id)?.content ?? this.model.idToToken[id] ?? "";
  }

  /**
   * Incremental decoding: decode the new ids together with the previously
   * emitted group and emit only what follows that group's text, so
   * first-token rules (Strip, Metaspace) apply once; hold back while the
   * text ends in U+FFFD (a UTF-8 character split over byte tokens).
   */
  createStreamDecoder(opts: DecodeOptions = {}): StreamDecoder {
    const skip = opts.skipSpecial ?? false;
    let context: number[] = [],
      prefix = "",
      pending: number[] = [];
    const take = (force: boolean): string => {
      if (pending.length === 0) return "";
      const s = this.decode([...context, ...pending]);
      const whole = s.startsWith(prefix);
      if (!force && ((s.endsWith("\ufffd") && pending.length < 8) || (whole && s.length <= prefix.length))) return "";
      const text = whole ? s.slice(prefix.length) : s;
      context = pending;
      prefix = this.decode(context);
      pending = [];
      return text;
    };
    return {
      push: (id: number) => {
        this.checkId(id);
        if (skip && this.isSpecial(id)) return "";
        pending.push(id);
        return take(false);
      },
      flush: () => take(true),
    };
  }
}

/** Build a tokenizer from the parsed JSON files of a Hugging Face model directory. */
export function tokenizerFromHF(tok: Json, cfg: Json | null, modelCfg: Json | null = null, source = "tokenizer.json"): HFTokenizer {
  if (!tok || typeof tok !== "object" || !tok.model) throw new Error(`${source}: not a tokenizer.json (no "model")`);
  return new HFTokenizer(tok, cfg, modelCfg, source);
}
