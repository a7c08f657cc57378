# Research screen for issue 16 (not part of the product): dropped FFN activation energy when a token keeps the top q of its
# neurons by |act(gate)| in groups of G: file order, groups by mean |act|, or balanced k-means on co-activation.
# Input: the dump of bench/predictor-dump.ts; fits on calibration prompts 0-4, scores on prompt 5.
#   python3 bench/neuron-group-screen.py DUMP_DIR G LAYERS   (needs numpy)
# groups of G neurons, clustered by co-activation on prompts 0-4, scored on prompt 5
import numpy as np, json, sys
d = sys.argv[1]; meta = json.load(open(f"{d}/meta.json"))
dim, F, L, N = meta["dim"], meta["F"], meta["L"], meta["rows"]
gelu = "gemma" in d
seq = np.fromfile(f"{d}/seq.i32", dtype=np.int32)
def act(g):
    if gelu: return 0.5*g*(1+np.tanh(0.7978845608028654*(g+0.044715*g**3)))
    return g/(1+np.exp(-g))
tr, te = seq < 5, seq == 5
G = int(sys.argv[2]) if len(sys.argv) > 2 else 32
layers = [int(x) for x in sys.argv[3].split(",")] if len(sys.argv) > 3 else [3, 8, 15, 22, 26]
def dropped(h, score, q, order, G):
    n, f = h.shape
    s = np.abs(score)[:, order].reshape(n, f//G, G).mean(2)
    k = int(round(q * f / G))
    thr = -np.sort(-s, axis=1)[:, k-1:k]
    keep = np.repeat(s >= thr, G, axis=1)
    hh = h[:, order]
    return ((hh**2 * (~keep)).sum(1) / (hh**2).sum(1)).mean()
def balanced_kmeans(X, k, G, iters=15, seed=0):
    # X: neurons x features (rows normalised); assign each cluster exactly G neurons
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    C = X[rng.choice(n, k, replace=False)]
    for _ in range(iters):
        sim = X @ C.T   # n x k
        # greedy balanced assignment: most confident pairs first
        order = np.argsort(-sim, axis=None)
        cap = np.full(k, G); lab = np.full(n, -1)
        for idx in order:
            i, c = divmod(idx, k)
            if lab[i] < 0 and cap[c] > 0:
                lab[i] = c; cap[c] -= 1
        C = np.stack([X[lab == c].mean(0) for c in range(k)])
        C /= np.linalg.norm(C, axis=1, keepdims=True) + 1e-12
    return np.argsort(lab, kind="stable")
for l in layers:
    g = np.fromfile(f"{d}/g{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    u = np.fromfile(f"{d}/u{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    a = act(g); h = a*u
    at = np.abs(a[tr])
    X = (at - at.mean(0)) / (at.std(0) + 1e-9)
    X = X.T / np.sqrt(X.shape[0])   # neuron x token, unit-ish
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
    ident = np.arange(F)
    km = balanced_kmeans(X, F // G, G)
    # mean |act| ordering (groups of similarly-frequent neurons)
    freq = np.argsort(-at.mean(0))
    out = []
    for q in (0.625, 0.475):
        out.append((q, dropped(h[te], a[te], q, ident, 1), dropped(h[te], a[te], q, ident, G), dropped(h[te], a[te], q, freq, G), dropped(h[te], a[te], q, km, G)))
    print(l, " ".join(f"q{q}: neuron {x1:.3f} file {x2:.3f} freq {x3:.3f} kmeans {x4:.3f}" for q, x1, x2, x3, x4 in out), flush=True)
