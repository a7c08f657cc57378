/**
 * ggml tensor types: ids as stored in GGUF, and the block layout of each.
 * A quantized row of `n` values is `n / blockSize` blocks of `typeSize` bytes.
 */
export enum GGMLType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
}

export interface TypeInfo {
  name: string;
  /** values per block */
  blockSize: number;
  /** bytes per block */
  typeSize: number;
}

/** Types the engine can load (dequantize and multiply). */
export const TYPE_INFO: Partial<Record<GGMLType, TypeInfo>> = {
  [GGMLType.F32]: { name: "F32", blockSize: 1, typeSize: 4 },
  [GGMLType.F16]: { name: "F16", blockSize: 1, typeSize: 2 },
  [GGMLType.BF16]: { name: "BF16", blockSize: 1, typeSize: 2 },
  [GGMLType.Q4_0]: { name: "Q4_0", blockSize: 32, typeSize: 18 },
  [GGMLType.Q4_1]: { name: "Q4_1", blockSize: 32, typeSize: 20 },
  [GGMLType.Q5_0]: { name: "Q5_0", blockSize: 32, typeSize: 22 },
  [GGMLType.Q5_1]: { name: "Q5_1", blockSize: 32, typeSize: 24 },
  [GGMLType.Q8_0]: { name: "Q8_0", blockSize: 32, typeSize: 34 },
  [GGMLType.Q4_K]: { name: "Q4_K", blockSize: 256, typeSize: 144 },
  [GGMLType.Q5_K]: { name: "Q5_K", blockSize: 256, typeSize: 176 },
  [GGMLType.Q6_K]: { name: "Q6_K", blockSize: 256, typeSize: 210 },
};

/** Names of all ggml type ids, including ones we cannot load (for error messages). */
export const ALL_TYPE_NAMES: Record<number, string> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  6: "Q5_0",
  7: "Q5_1",
  8: "Q8_0",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  12: "Q4_K",
  13: "Q5_K",
  14: "Q6_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  24: "I8",
  25: "I16",
  26: "I32",
  27: "I64",
  28: "F64",
  29: "IQ1_M",
  30: "BF16",
  34: "TQ1_0",
  35: "TQ2_0",
};

export function supportedTypeNames(): string[] {
  return Object.values(TYPE_INFO).map((t) => t!.name);
}

export function typeInfo(type: GGMLType): TypeInfo {
  const info = TYPE_INFO[type];
  if (!info) {
    const name = ALL_TYPE_NAMES[type] ?? `type id ${type}`;
    throw new Error(`unsupported tensor type ${name}; supported: ${supportedTypeNames().join(", ")}`);
  }
  return info;
}

/** Bytes taken by `n` values of `type` (n must be a multiple of the block size). */
export function rowBytes(type: GGMLType, n: number): number {
  const info = typeInfo(type);
  if (n % info.blockSize !== 0) {
    throw new Error(`row of ${n} values is not a multiple of the ${info.name} block size ${info.blockSize}`);
  }
  return (n / info.blockSize) * info.typeSize;
}
