#!/usr/bin/env python3
"""PyTorch-CPU port of the MIL-PF full head (global max + local attention), for the side-by-side
benchmark in bench/speed.ts (`npm run bench -- train-vs-torch`). Not part of the toolkit.

Same maths as lib/head (first layers Linear(D,16)+ReLU, Linear(16,8)+ReLU per stream, global max
pooling, local attention with one learned query, fusion Linear(16,1), class-weighted BCE,
full-batch Adam lr 0.002 / weight decay 1e-4, validation AUC every epoch). X stays float16 in
memory as float32 (what `numpy.fromfile(...).astype("float32")` gives a user; torch 1.13 widens
float16 on the CPU far slower than it multiplies), the training and validation bags gathered once.

--mode stacked: the first layers of R runs stacked D x 16R, the small layers batched with einsum
(one X pass per chunk for all runs); --mode loop: R independent models, one after the other
(what a user without the stacking would write).

Prints one JSON line: {"secPerEpoch": [...], "peakRssMiB": m, "threads": n, "torch": version}.
Needs equal tile / view counts per bag (the generated benchmark stores).
"""
import argparse
import json
import math
import os
import resource
import time

import numpy as np
import torch


def load(store):
    meta = json.load(open(os.path.join(store, "store.json")))
    D = meta["dim"]
    dt = "<f2" if meta["dtype"] == "float16" else "<f4"
    tiles = np.fromfile(os.path.join(store, "tiles.bin"), dtype=dt).reshape(-1, D)
    glob = np.fromfile(os.path.join(store, "globals.bin"), dtype=dt).reshape(-1, D)
    trows = np.fromfile(os.path.join(store, "tiles_rows.i32"), dtype="<i4").reshape(-1, 5)
    grows = np.fromfile(os.path.join(store, "globals_rows.i32"), dtype="<i4").reshape(-1, 2)
    nB = len(meta["bags"])
    tc = np.bincount(trows[:, 0], minlength=nB)
    gc = np.bincount(grows[:, 0], minlength=nB)
    if tc.min() != tc.max() or gc.min() != gc.max():
        raise SystemExit(f"{store}: bags have unequal tile/view counts; this benchmark port needs equal ones")
    T, V = int(tc[0]), int(gc[0])
    xt = torch.from_numpy(tiles.astype(np.float32)).view(nB, T, D)
    xg = torch.from_numpy(glob.astype(np.float32)).view(nB, V, D)
    y = torch.tensor([float(b["label"]) for b in meta["bags"]])
    split = [b["split"] for b in meta["bags"]]
    tr = torch.tensor([i for i, s in enumerate(split) if s == "train"])
    va = torch.tensor([i for i, s in enumerate(split) if s == "val"])
    return xg, xt, y, tr, va, D, T


def init(R, D, gen):
    def u(shape, fan):
        b = 1 / math.sqrt(fan)
        return ((torch.rand(shape, generator=gen) * 2 - 1) * b).requires_grad_()

    p = {}
    for s in ("g", "l"):
        p[s + "1w"] = u((D, 16 * R), D)
        p[s + "1b"] = u((R, 16), D)
        p[s + "2w"] = u((R, 16, 8), 16)
        p[s + "2b"] = u((R, 8), 16)
    for n in ("kw", "vw"):
        p[n] = u((R, 8, 8), 8)
    for n in ("kb", "vb"):
        p[n] = u((R, 8), 8)
    p["q"] = torch.randn((R, 8), generator=gen).requires_grad_()
    p["fw"] = u((R, 16), 16)
    p["fb"] = u((R,), 16)
    return p


def hidden(x, p, s, R):
    b, n, D = x.shape
    h = (x.reshape(-1, D) @ p[s + "1w"]).view(b, n, R, 16)
    h = torch.relu(h + p[s + "1b"])
    return torch.relu(torch.einsum("bnrk,rkj->bnrj", h, p[s + "2w"]) + p[s + "2b"])


def logits(xg, xt, p, R):
    zg = hidden(xg, p, "g", R).amax(1)  # [b, R, 8]
    ht = hidden(xt, p, "l", R)  # [b, T, R, 8]
    k = torch.einsum("btrk,rkj->btrj", ht, p["kw"]) + p["kb"]
    v = torch.einsum("btrk,rkj->btrj", ht, p["vw"]) + p["vb"]
    a = torch.softmax(torch.einsum("btrj,rj->btr", k, p["q"]) / math.sqrt(8), dim=1)
    zl = torch.einsum("btr,btrj->brj", a, v)
    return torch.einsum("brj,rj->br", zg, p["fw"][:, :8]) + torch.einsum("brj,rj->br", zl, p["fw"][:, 8:]) + p["fb"]


def auc(s, y):
    order = torch.argsort(s)
    ranks = torch.empty_like(s)
    ranks[order] = torch.arange(1, len(s) + 1, dtype=s.dtype)
    npos = y.sum()
    nneg = len(y) - npos
    return float((ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--mode", choices=["stacked", "loop"], default="stacked")
    ap.add_argument("--chunk-rows", type=int, default=8192)
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    xg, xt, y, tr, va, D, T = load(a.store)
    xg_tr, xt_tr, xg_va, xt_va, ytr, yva = xg[tr], xt[tr], xg[va], xt[va], y[tr], y[va]
    del xg, xt
    pos = float(ytr.sum())
    w = torch.where(ytr == 1, 1 / (2 * max(1.0, pos)), 1 / (2 * max(1.0, len(tr) - pos)))
    cb = max(1, a.chunk_rows // T)
    models = [init(a.runs, D, torch.Generator().manual_seed(0))] if a.mode == "stacked" else [init(1, D, torch.Generator().manual_seed(s)) for s in range(a.runs)]
    R = a.runs if a.mode == "stacked" else 1
    opts = [torch.optim.Adam(list(p.values()), lr=0.002, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4) for p in models]
    times = []
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        for p, opt in zip(models, opts):
            opt.zero_grad()
            for s in range(0, len(tr), cb):
                z = logits(xg_tr[s : s + cb], xt_tr[s : s + cb], p, R)
                yy = ytr[s : s + cb].unsqueeze(1).expand_as(z)
                loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, yy, reduction="none") * w[s : s + cb].unsqueeze(1)).sum()
                loss.backward()
            opt.step()
            with torch.no_grad():
                zs = torch.cat([logits(xg_va[s : s + cb], xt_va[s : s + cb], p, R) for s in range(0, len(va), cb)])
                for r in range(R):
                    auc(zs[:, r], yva)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"secPerEpoch": times, "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
