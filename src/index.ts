/** ffnskip: a TypeScript LLM inference engine with FFN-SkipLLM input-adaptive FFN skipping. */
export { loadModel, Engine } from "./api/engine.js";
export type { LoadModelOptions, RunOptions, Prompt, SkipSpec } from "./api/engine.js";
export type { GenerateResult, GenerateStats } from "./generate/generate.js";
export type { PerplexityResult } from "./generate/perplexity.js";
export type { SamplingOptions } from "./generate/sampling.js";
export type { ChatMessage } from "./generate/chat-template.js";
export type { SkipPolicy, SkipStats, StepInfo, LayerMode } from "./skip/policy.js";
export type { SkipConfig } from "./skip/config.js";
export type { ModelConfig } from "./model/config.js";
export type { Tokenizer } from "./tokenizer/types.js";
export { pullModel } from "./models/pull.js";
export { openGGUF } from "./gguf/reader.js";
