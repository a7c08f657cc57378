#!/usr/bin/env python3
"""Write dequantization fixtures for src/quant/dequant.test.ts.

For every tensor type the engine loads, make deterministic random blocks
(random quant bits, sane fp16 scales so nothing overflows to inf/NaN) and let
the reference `gguf` Python package (gguf.quants.dequantize) compute the
expected float32 values. Also, when the model files are present, record
gguf-python's dequantization of a few real tensors (a slice exactly, the whole
tensor as sums) for the reader test.

Output in test/fixtures/quant/:
  <TYPE>.raw            the quantized bytes
  <TYPE>.f32            expected values, little-endian float32
  manifest.json         [{name, type, n, raw, expected}], and "models": [...]

Usage: python3 scripts/quant-fixtures.py   (needs `pip install gguf numpy`)
"""
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T, GGML_QUANT_SIZES, GGUFReader
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "quant")
SHARED = os.environ.get("FFNSKIP_SHARED", os.path.join(ROOT, "..", "shared"))
SMOL = os.path.expanduser("~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf")

N_VALUES = 2048  # per type: 64 blocks of 32, or 8 super-blocks of 256

rng = np.random.default_rng(20240405)


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8).reshape(-1, 2)


def scales(nb, lo, hi):
    """fp16 scales with random sign and magnitude in [lo, hi)."""
    mag = rng.uniform(lo, hi, nb)
    sign = rng.choice([-1.0, 1.0], nb)
    return f16_bytes(mag * sign)


def make_blocks(t):
    block, size = GGML_QUANT_SIZES[t]
    nb = N_VALUES // block
    b = rng.integers(0, 256, (nb, size), dtype=np.uint8)
    if t == T.F32:
        v = rng.standard_normal(N_VALUES).astype(np.float32)
        # edge cases: zeros of both signs, subnormals, extremes, infinities
        v[:8] = np.array([0.0, -0.0, 1e-45, -1e-40, 3.4e38, -3.4e38, np.inf, -np.inf], dtype=np.float32)
        return v.view(np.uint8).reshape(nb, size)
    if t in (T.F16, T.BF16):
        # random bit patterns cover subnormals, infinities and NaNs; add the edges explicitly
        bits = b.view(np.uint16).reshape(-1)
        bits[:10] = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00]
        return bits.view(np.uint8).reshape(nb, size)
    if t in (T.Q4_0, T.Q5_0, T.Q8_0):
        b[:, 0:2] = scales(nb, 1e-4, 2.0)
    elif t in (T.Q4_1, T.Q5_1):
        b[:, 0:2] = scales(nb, 1e-4, 2.0)
        b[:, 2:4] = scales(nb, 1e-3, 8.0)
    elif t in (T.Q4_K, T.Q5_K):
        b[:, 0:2] = scales(nb, 1e-5, 0.05)
        b[:, 2:4] = scales(nb, 1e-5, 0.05)
    elif t == T.Q6_K:
        b[:, 208:210] = scales(nb, 1e-5, 0.01)
    else:
        raise ValueError(t)
    return b


TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K]


def model_fixtures(manifest):
    """Slices and whole-tensor sums of real tensors, as gguf-python reads them."""
    picks = [
        (os.path.join(SHARED, "models", "llama-2-tiny-random", "llama-2-tiny-random.gguf"),
         "tiny", ["blk.0.attn_q.weight", "blk.0.attn_norm.weight", "token_embd.weight"]),
        (SMOL, "smollm2", ["blk.0.attn_k.weight", "token_embd.weight", "output_norm.weight"]),
    ]
    for path, tag, names in picks:
        if not os.path.exists(path):
            print(f"skip {path}: missing", file=sys.stderr)
            continue
        r = GGUFReader(path)
        by = {t.name: t for t in r.tensors}
        for name in names:
            t = by[name]
            vals = dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32).reshape(-1)
            ne0 = int(t.shape[0])
            head = vals[: min(vals.size, 2 * ne0)]  # first two rows, exact
            fname = f"{tag}.{name}.head.f32"
            head.astype("<f4").tofile(os.path.join(OUT, fname))
            v64 = vals.astype(np.float64)
            manifest["models"].append({
                "model": tag, "tensor": name, "type": int(t.tensor_type), "dims": [int(x) for x in t.shape],
                "head": fname, "headCount": int(head.size),
                "sum": float(v64.sum()), "sumSquares": float((v64 * v64).sum()),
                "min": float(vals.min()), "max": float(vals.max()),
            })


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"generator": "scripts/quant-fixtures.py", "types": [], "models": []}
    for t in TYPES:
        raw = make_blocks(t)
        expected = dequantize(raw, t).astype("<f4").reshape(-1)
        assert expected.size == N_VALUES
        if t not in (T.F32, T.F16, T.BF16):
            assert np.isfinite(expected).all(), t.name
        raw.tofile(os.path.join(OUT, f"{t.name}.raw"))
        expected.tofile(os.path.join(OUT, f"{t.name}.f32"))
        manifest["types"].append({"name": t.name, "type": int(t), "n": N_VALUES,
                                  "raw": f"{t.name}.raw", "expected": f"{t.name}.f32"})
    model_fixtures(manifest)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
