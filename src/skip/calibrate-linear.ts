/**
 * Fitting ffn-skip-linear's stand-in maps (linear.ts) from dense FFN samples
 * of the calibration prompts: one reduced-rank ridge fit per middle layer
 * (linear-fit.ts), its explained variance on a held-out calibration prompt
 * (fit without it) and in-sample (the shipped fit, on every prompt).
 */
import { fitLowRank, predictionScore, type FitOptions, type Samples } from "./linear-fit.js";
import { roundToF16 } from "../quant/f16.js";
import { mapBytes, type StandInMaps } from "./linear.js";

/** Round U and V to f16 in place, as the side file stores them (scores are of what ships; b is stored f32). */
function roundF16(m: { U: Float32Array; V: Float32Array }): void {
  for (const a of [m.U, m.V]) for (let i = 0; i < a.length; i++) a[i] = roundToF16(a[i]);
}

export interface LayerFit {
  layer: number;
  samples: number;
  /** explained variance on the held-out prompt's samples, of a fit without them (predictionScore) */
  ev_heldout: number;
  /** the same fit's squared error removed on the held-out samples compared with adding nothing */
  gain_heldout: number;
  /** explained variance of the shipped fit on all samples */
  ev_fit: number;
  gain_fit: number;
}

/** The rows of `s` whose sequence passes `keep`. */
export function selectRows(s: Samples, seqOf: Int32Array, keep: (seq: number) => boolean): Samples {
  const d = s.dim;
  const rows: number[] = [];
  for (let t = 0; t < s.n; t++) if (keep(seqOf[t])) rows.push(t);
  const out: Samples = { dim: d, n: rows.length, x: new Float32Array(rows.length * d), y: new Float32Array(rows.length * d) };
  rows.forEach((t, i) => {
    out.x.set(s.x.subarray(t * d, (t + 1) * d), i * d);
    out.y.set(s.y.subarray(t * d, (t + 1) * d), i * d);
  });
  return out;
}

/**
 * Maps for every layer in `samples` (the others get none). `heldOut` is the
 * sequence left out for the held-out score (-1: none, ev_heldout NaN).
 */
export function fitStandIn(
  samples: ReadonlyMap<number, Samples>,
  seqOf: Int32Array,
  nLayers: number,
  o: FitOptions & { heldOut: number; log?: (line: string) => void },
): { maps: StandInMaps; fits: LayerFit[] } {
  const layers: StandInMaps["layers"] = new Array(nLayers).fill(null);
  const fits: LayerFit[] = [];
  let dim = 0;
  for (const [l, s] of [...samples].sort((a, b) => a[0] - b[0])) {
    dim = s.dim;
    let held = { ev: NaN, gain: NaN };
    if (o.heldOut >= 0) {
      const train = selectRows(s, seqOf, (q) => q !== o.heldOut),
        test = selectRows(s, seqOf, (q) => q === o.heldOut);
      if (train.n >= 2 && test.n >= 1) held = predictionScore(fitLowRank(train, o), test);
    }
    const map = fitLowRank(s, o);
    roundF16(map);
    layers[l] = map;
    const all = predictionScore(map, s);
    const f: LayerFit = { layer: l, samples: s.n, ev_heldout: held.ev, gain_heldout: held.gain, ev_fit: all.ev, gain_fit: all.gain };
    fits.push(f);
    o.log?.(
      `fit: layer ${l}: ${s.n} samples, explained variance ${f.ev_fit.toFixed(3)}, error removed vs nothing ${f.gain_fit.toFixed(3)} (held-out prompt: ${held.ev.toFixed(3)}, ${held.gain.toFixed(3)})`,
    );
  }
  return { maps: { nLayers, dim, rank: o.rank, layers }, fits };
}

/** The maps' bytes per skipped FFN as a share of that FFN's weight bytes. */
export function standInShare(dim: number, rank: number, ffnBytes: number): number {
  return mapBytes(dim, rank) / ffnBytes;
}
