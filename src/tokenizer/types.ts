/** Options for {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** add BOS/EOS as the file's `add_bos_token` / `add_eos_token` flags say (default true) */
  addSpecial?: boolean;
  /** recognise control-token strings such as `<|im_start|>` in the text (default false).
   * User-defined tokens are always recognised, as in llama.cpp. */
  parseSpecial?: boolean;
}

/** Options for {@link Tokenizer.decode} and {@link Tokenizer.createStreamDecoder}. */
export interface DecodeOptions {
  /** drop control tokens (and a leading BOS / trailing EOS the tokenizer adds itself); default false */
  skipSpecial?: boolean;
}

/** Incremental detokenizer for generation: returns only complete UTF-8 text. */
export interface StreamDecoder {
  /** Feed one token; returns the text that became complete (may be ""). */
  push(id: number): string;
  /** Return whatever is held back (an incomplete UTF-8 tail becomes U+FFFD). */
  flush(): string;
}

/** A tokenizer built from GGUF metadata that reproduces llama.cpp's token ids. */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly bos: number | null;
  readonly eos: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** end-of-generation ids (eos, eot, eom, and control tokens llama.cpp treats as EOG such as
   * <|im_end|>, <|endoftext|>, <end_of_turn>) */
  readonly eogIds: ReadonlySet<number>;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  /** raw piece text as stored in the vocabulary */
  tokenToPiece(id: number): string;
  createStreamDecoder(opts?: DecodeOptions): StreamDecoder;
}
