#!/usr/bin/env python3
"""Trains the detector's faint network (Sources/Detection/FaintCandidateNetwork.swift), which
orders the faint maxima of the dot filter before the faint candidates are taken from them, on
phantom scans made with TRAINING seeds, and writes Sources/Detection/Model/faint-network-3d.json.

    triage train-prior --from WORK/train1100 ... --from WORK/train1126 --holdout-seeds 1103,1104,1110 \\
        --out /tmp/prior.json --maxima-csv WORK/maxima.csv
    python3 scripts/train_faint_network.py --maxima WORK/maxima.csv --from WORK/train1100 ... \\
        [--holdout-seeds 1103,1104,1110] [--out Sources/Detection/Model/faint-network-3d.json]

`--maxima` is the table `triage train-prior --maxima-csv` writes: every faint maximum of every
scan of those folders (LPS centre, the dot filter's numbers, `faintRank`'s key, and the truth
nodule it lies in, -1 for none). For each scan this script samples HU cubes of 20^3 at 1 mm
(trilinear, aligned with the patient axes, read with pydicom as train_patch_network.py does;
the detector samples the central 16^3, CandidatePatch.swift): every maximum within a nodule
(positive), one negative in `--negative-fraction`'s reciprocal, and six cubes at jittered
truth centres of each ground-glass or part-solid nodule under 12 mm (the nodules the faint
list is for, which often have no maximum on their centre). It trains:

    16^3 window [-1000, 400] -> [0, 1] -> conv 3^3 8 + BN + ReLU, max pool 2
      -> conv 3^3 16 + BN + ReLU, max pool 2 -> conv 3^3 32 + BN + ReLU -> global max
      -> dense 16 + ReLU -> dense 1

with binary cross-entropy on batches of 64 a quarter positive, AdamW (lr 2e-3 one-cycle,
weight decay 1e-4), 8 epochs of 24,000 cubes, each cropped at a random shift of up to 2 mm per
axis, flipped along each axis at random and its axes permuted; folds batch normalisation into
the convolutions and writes the file in the patch network's format (`combination` unused).

With `--holdout-seeds` those seeds' scans are left out of the fit and the script prints, for
them, how many nodules a faint maximum among the first 200 of the scan reaches in the hand-made
order and in the network's (over the first `--pool` maxima of the hand-made order, as the
detector does): docs/detection.md, "The faint network". The committed file is fitted with
no seed held out.

Needs: numpy, scipy, pandas, pydicom, and PyTorch for CPU. About 5 min to sample the 168
training scans of seeds 1100-1110 and 1117-1126 and 2 min to train on this 2-core machine. Deterministic for
a given --seed up to PyTorch's floating-point reduction order. Never give it evaluation seeds.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_patch_network import export, load_series  # noqa: E402  (same reader, same file format)

CUBE, CROP = 20, 16      # sampled per axis; the network's input per axis
WINDOW_HU = (-1000.0, 400.0)
WIDTHS = (8, 16, 32)


def offsets(size):
    """LPS offsets (mm, step 1) of a cube's samples, [z][y][x] order, centre between the middle ones."""
    g = np.arange(size) - (size - 1) / 2
    oz, oy, ox = np.meshgrid(g, g, g, indexing="ij")
    return np.stack([ox.ravel(), oy.ravel(), oz.ravel()], 1)


def sample(series, centers, size):
    """HU cubes [n, size, size, size] around LPS centres (outside the volume: air, as CandidatePatch)."""
    from scipy.ndimage import map_coordinates
    vol, origin, row_dir, col_dir, normal, drow, dcol, dslice = series
    offs = offsets(size)
    out = np.empty((len(centers), size, size, size), np.float32)
    for a in range(0, len(centers), 512):
        p = (centers[a:a + 512, None, :] + offs[None]).reshape(-1, 3) - origin
        v = map_coordinates(vol, [p @ normal / dslice, p @ col_dir / drow, p @ row_dir / dcol],
                            order=1, mode="constant", cval=WINDOW_HU[0])
        out[a:a + 512] = v.reshape(-1, size, size, size)
    return out


def window(x):
    return (np.clip(x, *WINDOW_HU) - WINDOW_HU[0]) / (WINDOW_HU[1] - WINDOW_HU[0])


def build_network():
    import torch.nn as nn
    import torch.nn.functional as F

    class FaintNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = (1,) + WIDTHS
            self.convs = nn.ModuleList(nn.Conv3d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:]))
            self.norms = nn.ModuleList(nn.BatchNorm3d(b) for b in widths[1:])
            self.fc = nn.Linear(widths[-1], 16)
            self.out = nn.Linear(16, 1)

        def forward(self, cube):
            x = cube.unsqueeze(1)
            for k, (conv, norm) in enumerate(zip(self.convs, self.norms)):
                x = F.relu(norm(conv(x)))
                if k < len(self.convs) - 1:
                    x = F.max_pool3d(x, 2)
            x = x.amax((2, 3, 4))
            return self.out(F.relu(self.fc(x))).squeeze(1)

    return FaintNet()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maxima", required=True, help="triage train-prior --maxima-csv output for the same folders")
    ap.add_argument("--from", dest="folders", nargs="+", required=True, help="phantom folders (training seeds)")
    ap.add_argument("--holdout-seeds", default="", help="comma-separated seeds left out of the fit and reported on")
    ap.add_argument("--out", default="Sources/Detection/Model/faint-network-3d.json")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--per-epoch", type=int, default=24000)
    ap.add_argument("--negative-fraction", type=float, default=1 / 24)
    ap.add_argument("--pool", type=int, default=3000, help="the detector's faint_network_pool, for the report")
    ap.add_argument("--budget", type=int, default=200, help="the detector's maximum_faint_candidates, for the report")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    import pandas as pd
    import torch
    import torch.nn.functional as F
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(a.seed)
    held = {int(s) for s in a.holdout_seeds.split(",") if s}

    maxima = pd.read_csv(a.maxima)
    folders = {}
    for folder in a.folders:
        truth = json.load(open(os.path.join(folder, "truth.json")))
        if 9000 <= truth["seed"] <= 9099:
            sys.exit(f"{folder} was made with evaluation seed {truth['seed']}; train on 1000-1999")
        folders[truth["seed"]] = (folder, truth)
    missing = set(maxima.seed) - set(folders)
    if missing:
        sys.exit(f"the table has seeds without a --from folder: {sorted(missing)}")

    # Training cubes.
    cubes, labels, seeds_used = [], [], []
    t0 = time.time()
    for seed, (folder, truth) in sorted(folders.items()):
        if seed in held:
            continue
        seeds_used.append(seed)
        for case in (c for c in truth["cases"] if c["format"] == "dicom"):
            rows = maxima[(maxima.seed == seed) & (maxima.case == case["case_id"])]
            positive = rows[rows.nodule >= 0]
            negative = rows[rows.nodule < 0]
            negative = negative[rng.random(len(negative)) < a.negative_fraction]
            centers = [positive[["x_mm", "y_mm", "z_mm"]].to_numpy(), negative[["x_mm", "y_mm", "z_mm"]].to_numpy()]
            extra = [np.array(n["center_mm"]) + rng.uniform(-1, 1, 3) * min(1.5, n["diameter_mm"] / 4)
                     for n in case["nodules"] if n["type"] != "solid" and n["diameter_mm"] < 12 for _ in range(6)]
            if extra:
                centers.append(np.array(extra))
            series = load_series(os.path.join(folder, case["folder"]))
            cubes.append(sample(series, np.concatenate(centers), CUBE).clip(-1024, 3000).astype(np.int16))
            labels += [1] * len(positive) + [0] * len(negative) + [1] * len(extra)
        print(f"sampled seed {seed}: {len(labels)} cubes so far, {time.time() - t0:.0f} s", flush=True)
    X = np.concatenate(cubes)
    y = np.array(labels)
    pos, neg = np.where(y == 1)[0], np.where(y == 0)[0]
    print(f"{len(y)} cubes, {len(pos)} positive", flush=True)

    def batch(idx):
        out = np.empty((len(idx), CROP, CROP, CROP), np.float32)
        for j, i in enumerate(idx):
            o = rng.integers(0, CUBE - CROP + 1, 3)
            c = X[i, o[0]:o[0] + CROP, o[1]:o[1] + CROP, o[2]:o[2] + CROP]
            for axis in range(3):
                if rng.random() < 0.5:
                    c = np.flip(c, axis)
            out[j] = window(np.transpose(c, rng.permutation(3)).astype(np.float32))
        return torch.from_numpy(out)

    net = build_network()
    steps = a.per_epoch // 64
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=a.epochs * steps)
    target = torch.tensor([1.0] * 16 + [0.0] * 48)
    for epoch in range(a.epochs):
        net.train()
        total = 0.0
        for _ in range(steps):
            idx = np.concatenate([rng.choice(pos, 16), rng.choice(neg, 48)])
            loss = F.binary_cross_entropy_with_logits(net(batch(idx)), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / steps:.4f}, {time.time() - t0:.0f} s", flush=True)
    net.eval()

    # The command as it reads on any machine: folders by their seeds, not this machine's paths.
    command = ["scripts/train_faint_network.py", "--maxima", "<triage train-prior --maxima-csv of the same folders>",
               "--from"] + [f"<phantom seed {s}>" for s in sorted(folders)]
    if held:
        command += ["--holdout-seeds", ",".join(str(s) for s in sorted(held))]
    if a.seed:
        command += ["--seed", str(a.seed)]
    training = {"command": " ".join(command),
                "seeds": ",".join(str(s) for s in seeds_used), "cubes": str(len(y)), "positives": str(len(pos)),
                "pytorch": torch.__version__}
    # The combination is the patch network's field; the faint network's logit only orders.
    export(net, {"weight": 0.0, "offset": 0.0, "tree_score_floor": 1.0}, training, a.out, patch_size=CROP)
    print("wrote", a.out)

    # Held-out report: nodules reached by the first `budget` maxima of each scan.
    reached = {"hand-made": [0, 0], "network": [0, 0]}
    total = [0, 0]
    for seed in sorted(held):
        folder, truth = folders[seed]
        for case in (c for c in truth["cases"] if c["format"] == "dicom"):
            rows = maxima[(maxima.seed == seed) & (maxima.case == case["case_id"])]
            rows = rows.sort_values("hu_mass_rank", ascending=False, kind="stable")
            pool = rows.head(a.pool)
            series = load_series(os.path.join(folder, case["folder"]))
            with torch.no_grad():
                logits = np.concatenate([
                    net(torch.from_numpy(window(sample(series, chunk, CROP)))).numpy()
                    for chunk in np.array_split(pool[["x_mm", "y_mm", "z_mm"]].to_numpy(), max(1, len(pool) // 512))])
            orders = {"hand-made": rows.nodule.to_numpy()[:a.budget],
                      "network": pool.nodule.to_numpy()[np.argsort(-logits, kind="stable")][:a.budget]}
            for k, n in enumerate(case["nodules"]):
                group = 0 if n["type"] == "solid" else 1
                total[group] += 1
                for name, order in orders.items():
                    if k in order:
                        reached[name][group] += 1
    if held:
        print(f"held-out seeds {sorted(held)}: nodules with a faint maximum among the first {a.budget} of the scan")
        for name, (solid, other) in reached.items():
            print(f"  {name} order: {solid + other} of {sum(total)} (solid {solid} of {total[0]}, "
                  f"ground glass and part-solid {other} of {total[1]})")


if __name__ == "__main__":
    main()
