# Research screen for issue 16 (not part of the product): how well cheap predictors made before the gate rank FFN neurons.
# Input: the dump of bench/predictor-dump.ts. Trains on calibration prompts 0-4, scores on prompt 5. Metric: the share of
# the energy of h = act(gate)*up dropped when each token keeps the top q of its neurons by the predictor score.
#   python3 bench/predictor-screen.py DUMP_DIR [ranks, e.g. 16,32,64] [layers, e.g. 3,8,15]  (needs numpy)
import numpy as np, json, sys
d = sys.argv[1]; meta = json.load(open(f"{d}/meta.json"))
dim, F, L, N = meta["dim"], meta["F"], meta["L"], meta["rows"]
gelu = meta.get("act") == "gelu" or "gemma" in d
seq = np.fromfile(f"{d}/seq.i32", dtype=np.int32)
def act(g):
    if gelu: return 0.5*g*(1+np.tanh(0.7978845608028654*(g+0.044715*g**3)))
    return g/(1+np.exp(-g))
tr, te = seq < 5, seq == 5
ranks = [int(r) for r in sys.argv[2].split(",")] if len(sys.argv) > 2 else [16, 32, 64]
keeps = [0.625, 0.475]
layers = range(L) if len(sys.argv) <= 3 else [int(x) for x in sys.argv[3].split(",")]
def E(h, score, q, group=1):
    # dropped energy of h when keeping top-q by score per token (groups of `group` consecutive neurons by summed score)
    n, f = h.shape
    if group > 1:
        s = np.abs(score).reshape(n, f//group, group).sum(2)
        k = int(round(q * f / group))
        thr = -np.sort(-s, axis=1)[:, k-1:k]
        keep = np.repeat(s >= thr, group, axis=1)
    else:
        k = int(round(q*f)); s = np.abs(score)
        thr = -np.sort(-s, axis=1)[:, k-1:k]
        keep = s >= thr
    e = (h**2 * (~keep)).sum(1) / (h**2).sum(1)
    return e.mean()
res = {}
for l in layers:
    x = np.fromfile(f"{d}/x{l}.f32", dtype=np.float32).reshape(N, dim).astype(np.float64)
    g = np.fromfile(f"{d}/g{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    u = np.fromfile(f"{d}/u{l}.f32", dtype=np.float32).reshape(N, F).astype(np.float64)
    a = act(g); h = a*u
    xt, gt = x[tr], g[tr]
    W, *_ = np.linalg.lstsq(np.c_[xt, np.ones(len(xt))], gt, rcond=None)
    ghat_full = np.c_[x[te], np.ones(te.sum())] @ W
    mu = gt.mean(0); C = np.cov((gt - mu).T)
    w, V = np.linalg.eigh(C); V = V[:, ::-1]
    out = {}
    for q in keeps:
        ht = h[te]
        r = {"oracle_act": E(ht, a[te], q), "oracle_h": E(ht, ht, q), "oracle_act_g4": E(ht, a[te], q, 4),
             "fullfit": E(ht, act(ghat_full), q)}
        prev = np.vstack([a[te][:1], a[te][:-1]])
        r["temporal"] = E(ht, prev, q)
        for rk in ranks:
            P = V[:, :rk]
            gh = mu + (ghat_full - mu) @ P @ P.T
            r[f"lr{rk}"] = E(ht, act(gh), q)
            r[f"lr{rk}_g4"] = E(ht, act(gh), q, 4)
        r["static_mean"] = E(ht, np.tile(np.abs(a[tr]).mean(0), (te.sum(), 1)), q)
        out[q] = r
    res[l] = out
    print(l, " ".join(f"q{q}:" + ",".join(f"{k}={v:.3f}" for k, v in out[q].items()) for q in keeps), flush=True)
# averages
for q in keeps:
    keys = res[next(iter(res))][q].keys()
    print("MEAN q", q, " ".join(f"{k}={np.mean([res[l][q][k] for l in res]):.3f}" for k in keys))
