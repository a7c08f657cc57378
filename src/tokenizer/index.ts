export type { DecodeOptions, EncodeOptions, StreamDecoder, Tokenizer } from "./types.js";
export { tokenizerFromGGUFMetadata } from "./tokenizer.js";
