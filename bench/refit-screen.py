# Research screen for issue 16 (not part of the product): can a compact FFN's down projection, refitted by least squares
# (ridge, with a bias) on the kept neurons' activations, recover the dropped neurons' output? Fits on calibration prompts
# 0-4 of the dump of bench/predictor-dump.ts, scores on prompt 5: relative squared error of the FFN output.
#   pip install gguf numpy; python3 bench/refit-screen.py DUMP_DIR MODEL.gguf LAYERS [KEEP_SHARE]
import numpy as np, json, sys
from gguf import GGUFReader
from gguf.quants import dequantize
d = sys.argv[1]; meta = json.load(open(f"{d}/meta.json"))
dim, F, L, N = meta["dim"], meta["F"], meta["L"], meta["rows"]
seq = np.fromfile(f"{d}/seq.i32", dtype=np.int32)
tr, te = seq < 5, seq == 5
r = GGUFReader(sys.argv[2])
T = {t.name: t for t in r.tensors}
def W(name):
    t = T[name]; a = dequantize(t.data, t.tensor_type)
    return a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim == 1 else a
act = lambda g: g/(1+np.exp(-g))
keepq = float(sys.argv[4]) if len(sys.argv) > 4 else 0.25
for l in [int(x) for x in sys.argv[3].split(",")]:
    W2 = W(f"blk.{l}.ffn_down.weight").astype(np.float64)   # dim x F
    assert W2.shape == (dim, F), W2.shape
    g = np.fromfile(f"{d}/g{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    u = np.fromfile(f"{d}/u{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    h = act(g)*u
    y = h @ W2.T
    score = (h[tr]**2).mean(0) * (W2**2).sum(0)
    K = np.sort(np.argsort(-score)[:int(keepq*F)])
    yc = h[:, K] @ W2[:, K].T
    err = lambda yhat, m: ((y[m]-yhat[m])**2).sum() / (y[m]**2).sum()
    # least-squares refit with bias and ridge
    X = np.c_[h[:, K], np.ones(N)]
    out = [f"layer {l} keep {keepq}: compact {err(yc, tr):.3f}/{err(yc, te):.3f}"]
    for lam in (1e-3, 1e-2, 1e-1):
        A = X[tr].T @ X[tr]; A += lam * np.trace(A)/A.shape[0] * np.eye(A.shape[0])
        B = np.linalg.solve(A, X[tr].T @ y[tr])
        yr = X @ B
        out.append(f"refit λ{lam} {err(yr, tr):.3f}/{err(yr, te):.3f}")
    # bias only
    b = (y[tr]-yc[tr]).mean(0)
    out.append(f"bias {err(yc+b, tr):.3f}/{err(yc+b, te):.3f}")
    print("  ".join(out), flush=True)
