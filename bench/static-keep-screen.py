# Research screen for issue 16 (not part of the product): static (calibration-time) neuron choices for the compact
# FFN copies, scored by the mean and 90th percentile over tokens of the dropped activation energy (h = act(gate)*up).
# Input: the dump of bench/predictor-dump.ts; fits on calibration prompts 0-4, scores on prompt 5. SiLU models.
#   python3 bench/static-keep-screen.py DUMP_DIR LAYERS   (needs numpy)
import numpy as np, json, sys
d = sys.argv[1]; meta = json.load(open(f"{d}/meta.json"))
dim, F, L, N = meta["dim"], meta["F"], meta["L"], meta["rows"]
seq = np.fromfile(f"{d}/seq.i32", dtype=np.int32)
act = lambda g: g/(1+np.exp(-g))
tr, te = seq < 5, seq == 5
for l in [int(x) for x in sys.argv[2].split(",")]:
    g = np.fromfile(f"{d}/g{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    u = np.fromfile(f"{d}/u{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    h = act(g)*u; h2 = h**2
    ht, he = h2[tr], h2[te]
    for q in (0.5, 0.25):
        k = int(q*F)
        topk = np.argsort(-ht, axis=1)[:, :k]
        freq = np.zeros(F); np.add.at(freq, topk.ravel(), 1)
        share = ht / ht.sum(1, keepdims=True)
        scores = {"mean": ht.mean(0), "p4": np.sqrt((ht**2).mean(0)), "freq": freq, "meanshare": share.mean(0), "max": ht.max(0), "p99": np.quantile(ht, 0.99, axis=0)}
        out = []
        for name, s in scores.items():
            keep = np.zeros(F, bool); keep[np.argsort(-s)[:k]] = True
            dr = he[:, ~keep].sum(1) / he.sum(1)
            out.append(f"{name} {dr.mean():.3f}/{np.quantile(dr,0.9):.3f}")
        print(l, q, "  ".join(out), flush=True)
