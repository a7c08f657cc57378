/**
 * The vocabulary as llama.cpp loads it from GGUF metadata: token texts, scores,
 * per-token attributes, special ids, BOS/EOS flags and the end-of-generation set.
 * llama.cpp fills gaps in the metadata with per-model-type defaults and guesses
 * some special tokens from their text; we apply the same rules so that ids match.
 */

/** Token attribute bits (llama.cpp's llama_token_attr). */
export const ATTR_UNKNOWN = 1 << 0;
export const ATTR_UNUSED = 1 << 1;
export const ATTR_NORMAL = 1 << 2;
export const ATTR_CONTROL = 1 << 3;
export const ATTR_USER_DEFINED = 1 << 4;
export const ATTR_BYTE = 1 << 5;

/** GGUF `tokenizer.ggml.token_type` values -> attribute bits. */
function attrFromType(t: number): number {
  switch (t) {
    case 1:
      return ATTR_NORMAL;
    case 2:
      return ATTR_UNKNOWN;
    case 3:
      return ATTR_CONTROL;
    case 4:
      return ATTR_USER_DEFINED;
    case 5:
      return ATTR_UNUSED;
    case 6:
      return ATTR_BYTE;
    default:
      return 0; // undefined
  }
}

export type VocabKind = "bpe" | "spm";
export const SUPPORTED_MODELS = ["gpt2 (byte-level BPE)", "llama (SentencePiece BPE)"];

export interface Vocab {
  kind: VocabKind;
  /** tokenizer.ggml.pre as written in the file ("" when absent) */
  pre: string;
  tokens: string[];
  scores: Float32Array;
  attrs: Uint8Array;
  tokenToId: Map<string, number>;
  /** BPE merges: "left\u0001right" -> rank */
  ranks: Map<string, number>;
  bos: number | null;
  eos: number | null;
  unk: number | null;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  eog: Set<number>;
  /** ids matched in raw text before tokenizing: control, user-defined and unknown tokens, longest first */
  specialIds: number[];
}

export const MERGE_SEP = "\u0001";

// Texts llama.cpp recognises as special tokens when the metadata does not name them.
const EOT_TEXTS = [
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "<|end_of_text|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "<｜end▁of▁sentence｜>",
  "<end_of_utterance>",
];
const EOM_TEXTS = ["<|eom_id|>"];
const FIM_PRE_TEXTS = [
  "<|fim_prefix|>",
  "<fim-prefix>",
  "<fim_prefix>",
  "<｜fim▁begin｜>",
  "<PRE>",
  "▁<PRE>",
  "<|code_prefix|>",
  "<|prefix|>",
];
const FIM_SUF_TEXTS = [
  "<|fim_suffix|>",
  "<fim-suffix>",
  "<fim_suffix>",
  "<｜fim▁hole｜>",
  "<SUF>",
  "▁<SUF>",
  "<|code_suffix|>",
  "<|suffix|>",
];
const FIM_MID_TEXTS = [
  "<|fim_middle|>",
  "<fim-middle>",
  "<fim_middle>",
  "<｜fim▁end｜>",
  "<MID>",
  "▁<MID>",
  "<|code_middle|>",
  "<|middle|>",
];
const FIM_PAD_TEXTS = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
const FIM_REP_TEXTS = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
const FIM_SEP_TEXTS = ["<|file_sep|>"];
// any token with one of these texts ends generation
const EOG_TEXTS = new Set([
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<|return|>",
  "<|call|>",
  "<|flush|>",
  "<|calls|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "</s>",
  "<|eom_id|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "[EOS]",
  "<|end_of_text|>",
  "<end_of_utterance>",
  "<｜end▁of▁sentence｜>",
]);
// gpt-oss: these must always be rendered, so llama.cpp makes them user-defined
const ALWAYS_RENDER = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"];

/** Pre-tokenizer settings that change vocab flags (the regexes live in pretokenize.ts). */
export interface PreFlags {
  addBos?: boolean;
}

function toNumberArray(v: unknown, key: string, n: number): ArrayLike<number> | null {
  if (v === undefined || v === null) return null;
  if (ArrayBuffer.isView(v) || Array.isArray(v)) {
    const a = v as ArrayLike<number>;
    if (a.length < n) throw new Error(`GGUF metadata ${key} has ${a.length} entries, fewer than the ${n} tokens`);
    return a;
  }
  throw new Error(`GGUF metadata ${key} must be a numeric array, got ${typeof v}`);
}

function optId(md: Record<string, unknown>, key: string): number | undefined {
  const v = md[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw new Error(`GGUF metadata ${key} must be an integer, got ${String(v)}`);
  return n;
}

function optBool(md: Record<string, unknown>, key: string): boolean | undefined {
  const v = md[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new Error(`GGUF metadata ${key} must be a boolean, got ${String(v)}`);
  return v;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Read the vocabulary from a GGUF metadata record (see tokenizerFromGGUFMetadata). */
export function loadVocab(md: Record<string, unknown>, preFlags: (pre: string) => PreFlags): Vocab {
  const model = md["tokenizer.ggml.model"];
  let kind: VocabKind;
  if (model === "gpt2") kind = "bpe";
  else if (model === "llama") kind = "spm";
  else throw new Error(`unsupported tokenizer.ggml.model ${JSON.stringify(model)}; supported: ${SUPPORTED_MODELS.join(", ")}`);

  const tokens = md["tokenizer.ggml.tokens"];
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== "string")) {
    throw new Error("GGUF metadata tokenizer.ggml.tokens must be an array of strings");
  }
  const n = tokens.length;
  if (n === 0) throw new Error("GGUF metadata tokenizer.ggml.tokens is empty");
  const pre = typeof md["tokenizer.ggml.pre"] === "string" ? (md["tokenizer.ggml.pre"] as string) : "";

  const scoresIn = toNumberArray(md["tokenizer.ggml.scores"], "tokenizer.ggml.scores", n);
  const typesIn = toNumberArray(md["tokenizer.ggml.token_type"], "tokenizer.ggml.token_type", n);
  const scores = new Float32Array(n);
  const attrs = new Uint8Array(n);
  const texts: string[] = new Array(n);
  const tokenToId = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    // llama.cpp renames empty tokens so they can never match text
    const text = (tokens[i] as string) === "" ? `[EMPTY_${i}]` : (tokens[i] as string);
    if (tokenToId.has(text)) {
      throw new Error(`duplicate token in vocabulary: ${JSON.stringify(text)} has ids ${tokenToId.get(text)} and ${i}`);
    }
    tokenToId.set(text, i);
    texts[i] = text;
    scores[i] = scoresIn ? scoresIn[i] : 0;
    attrs[i] = typesIn ? attrFromType(typesIn[i]) : ATTR_NORMAL;
  }

  const ranks = new Map<string, number>();
  if (kind === "bpe") {
    const merges = md["tokenizer.ggml.merges"];
    if (!Array.isArray(merges)) throw new Error("GGUF metadata tokenizer.ggml.merges (string array) is required for a gpt2 tokenizer");
    for (let i = 0; i < merges.length; i++) {
      const m = merges[i];
      if (typeof m !== "string") throw new Error(`tokenizer.ggml.merges[${i}] is not a string`);
      // split at the first space after the first character (a merge may start with a space)
      const pos = m.indexOf(" ", 1);
      const key = pos < 0 ? MERGE_SEP : m.slice(0, pos) + MERGE_SEP + m.slice(pos + 1);
      if (!ranks.has(key)) ranks.set(key, i);
    }
  }

  // defaults by model type, then the metadata
  let bos: number | null = kind === "spm" ? 1 : 11;
  let eos: number | null = kind === "spm" ? 2 : 11;
  let unk: number | null = kind === "spm" ? 0 : null;
  let eot: number | null = null,
    eom: number | null = null;
  let fimPad: number | null = null,
    fimRep: number | null = null,
    fimSep: number | null = null;
  const fimOthers: (number | null)[] = [null, null, null];
  const pick = (key: string, def: number | null): number | null => {
    if (def !== null && def >= n) def = null;
    const v = optId(md, key);
    if (v === undefined) return def;
    return v >= 0 && v < n ? v : def;
  };
  bos = pick("tokenizer.ggml.bos_token_id", bos);
  eos = pick("tokenizer.ggml.eos_token_id", eos);
  unk = pick("tokenizer.ggml.unknown_token_id", unk);
  eot = pick("tokenizer.ggml.eot_token_id", eot);
  eom = pick("tokenizer.ggml.eom_token_id", eom);
  fimPad = pick("tokenizer.ggml.fim_pad_token_id", fimPad);
  fimRep = pick("tokenizer.ggml.fim_rep_token_id", fimRep);
  fimSep = pick("tokenizer.ggml.fim_sep_token_id", fimSep);
  fimOthers[0] = pick("tokenizer.ggml.fim_pre_token_id", null);
  fimOthers[1] = pick("tokenizer.ggml.fim_suf_token_id", null);
  fimOthers[2] = pick("tokenizer.ggml.fim_mid_token_id", null);

  let addBos = kind === "spm" ? true : preFlags(pre).addBos === true;
  let addEos = false;
  let addSpacePrefix = kind === "spm";
  addBos = optBool(md, "tokenizer.ggml.add_bos_token") ?? addBos;
  addEos = optBool(md, "tokenizer.ggml.add_eos_token") ?? addEos;
  addSpacePrefix = optBool(md, "tokenizer.ggml.add_space_prefix") ?? addSpacePrefix;
  if (addBos && bos === null) throw new Error("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
  if (addEos && eos === null) throw new Error("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");

  // Guess unnamed special tokens from their text; a guessed token is forced to CONTROL.
  const guess = (current: number | null, candidates: string[]): number | null => {
    if (current !== null) return current;
    for (const t of candidates) {
      const id = tokenToId.get(t);
      if (id !== undefined) {
        attrs[id] |= ATTR_CONTROL;
        return id;
      }
    }
    return null;
  };
  eot = guess(eot, EOT_TEXTS);
  eom = guess(eom, EOM_TEXTS);
  fimOthers[0] = guess(fimOthers[0], FIM_PRE_TEXTS);
  fimOthers[1] = guess(fimOthers[1], FIM_SUF_TEXTS);
  fimOthers[2] = guess(fimOthers[2], FIM_MID_TEXTS);
  fimPad = guess(fimPad, FIM_PAD_TEXTS);
  fimRep = guess(fimRep, FIM_REP_TEXTS);
  fimSep = guess(fimSep, FIM_SEP_TEXTS);

  const eog = new Set<number>();
  for (const id of [fimPad, fimRep, fimSep]) if (id !== null) eog.add(id);
  for (const t of EOG_TEXTS) {
    const id = tokenToId.get(t);
    if (id !== undefined) {
      eog.add(id);
      attrs[id] |= ATTR_CONTROL;
    }
  }
  for (const t of ALWAYS_RENDER) {
    const id = tokenToId.get(t);
    if (id !== undefined) attrs[id] = ATTR_USER_DEFINED;
  }
  for (const id of [eos, eot, eom]) if (id !== null) eog.add(id);
  // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation
  const has = (t: string) => {
    const id = tokenToId.get(t);
    return id !== undefined && eog.has(id);
  };
  if (
    has("<|end|>") &&
    ((has("<|return|>") && (has("<|call|>") || has("<|calls|>"))) || (has("<|flush|>") && (has("<|call|>") || has("<|calls|>"))))
  ) {
    const id = tokenToId.get("<|end|>")!;
    eog.delete(id);
    attrs[id] = ATTR_USER_DEFINED;
  }

  const specialIds: number[] = [];
  for (let i = 0; i < n; i++) if (attrs[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) specialIds.push(i);
  const byteLen = specialIds.map((id) => utf8Length(texts[id]));
  const order = specialIds.map((_, i) => i).sort((a, b) => byteLen[b] - byteLen[a] || specialIds[a] - specialIds[b]);

  return {
    kind,
    pre,
    tokens: texts,
    scores,
    attrs,
    tokenToId,
    ranks,
    bos,
    eos,
    unk,
    addBos,
    addEos,
    addSpacePrefix,
    eog,
    specialIds: order.map((i) => specialIds[i]),
  };
}
