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
(positive); of the negatives, `--pool-negative-fraction` of those among the first `--budget` +
`--pool` of the scan in the hand-made order (the places the network chooses among: round
faint blobs, ground-glass patches, plaque edges) and `--negative-fraction` of the others
(noise and vessel twigs it never sees); and six cubes at jittered truth centres of each
ground-glass or part-solid nodule under 12 mm (the nodules the faint list is for, which often
have no maximum on their centre). It trains:

    16^3 window [-1000, 400] -> [0, 1] -> conv 3^3 8 + BN + ReLU, max pool 2
      -> conv 3^3 16 + BN + ReLU, max pool 2 -> conv 3^3 32 + BN + ReLU -> global max
      -> dense 16 + ReLU -> dense 1

with binary cross-entropy on batches of 64 a quarter positive, AdamW (lr 2e-3 one-cycle,
weight decay 1e-4), 8 epochs of 24,000 cubes, each cropped at a random shift of up to 2 mm per
axis, flipped along each axis at random and its axes permuted. With `--hard-negatives F` (the
default 0.1) it then scores every negative cube, keeps the fraction F it scores highest, and
trains again from the start with half of each batch's negatives drawn from those
(hard-negative mining, the "bootstrapping" of Sung & Poggio, IEEE TPAMI 20(1), 1998). It
folds batch normalisation into the convolutions and writes the file in the patch network's
format (`combination` unused).

With `--holdout-seeds` those seeds' scans are left out of the fit and the script prints, for
them, how many nodules the faint maxima reach (no suppression, an approximation of the
detector's selection): the first `--budget` in the hand-made order; those and the
`--network-budget` the network ranks highest among the next `--pool` (the detector's
`faint_network_candidates` and `faint_network_pool`); and, for the same count, the first
`--budget` + `--network-budget` in the hand-made order: docs/detection.md, "The faint
network". A committed file is fitted with no seed held out.

Needs: numpy, scipy, pandas, pydicom, and PyTorch for CPU. On this 2-core machine, for the
168 training scans of seeds 1100-1110, 1117-1124 and 1130-1131 (172,722 cubes): 6 min to
sample, 1.5 min per fit and 1.5 min to score the negatives between the two (11 min in all,
2026-12-07). Deterministic for a given --seed up to PyTorch's floating-point reduction order.
Never give it evaluation seeds.
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
    ap.add_argument("--negative-fraction", type=float, default=1 / 48,
                    help="of the negatives beyond the first --budget + --pool of a scan")
    ap.add_argument("--pool-negative-fraction", type=float, default=1 / 4,
                    help="of the negatives among the first --budget + --pool of a scan in the hand-made order")
    ap.add_argument("--hard-negatives", type=float, default=0.1,
                    help="fraction of the negatives, scored highest by a first fit, that a second fit oversamples; 0: one fit")
    ap.add_argument("--pool", type=int, default=3000, help="the detector's faint_network_pool")
    ap.add_argument("--budget", type=int, default=200, help="the detector's maximum_faint_candidates")
    ap.add_argument("--network-budget", type=int, default=100, help="the detector's faint_network_candidates, for the report")
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
            rows = rows.sort_values("hu_mass_rank", ascending=False, kind="stable")
            in_pool = np.arange(len(rows)) < a.budget + a.pool
            positive = rows[rows.nodule >= 0]
            fraction = np.where(in_pool, a.pool_negative_fraction, a.negative_fraction)
            negative = rows[(rows.nodule.to_numpy() < 0) & (rng.random(len(rows)) < fraction)]
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

    def fit(hard):
        """A network trained from the start; with `hard` (indices of negatives), half of each
        batch's negatives come from those."""
        net = build_network()
        steps = a.per_epoch // 64
        opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=a.epochs * steps)
        target = torch.tensor([1.0] * 16 + [0.0] * 48)
        for epoch in range(a.epochs):
            net.train()
            total = 0.0
            for _ in range(steps):
                negatives = rng.choice(neg, 48) if hard is None else \
                    np.concatenate([rng.choice(neg, 24), rng.choice(hard, 24)])
                idx = np.concatenate([rng.choice(pos, 16), negatives])
                loss = F.binary_cross_entropy_with_logits(net(batch(idx)), target)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item()
            print(f"epoch {epoch}: loss {total / steps:.4f}, {time.time() - t0:.0f} s", flush=True)
        net.eval()
        return net

    def centre_logits(net, idx):
        """Logits of cubes `idx` at their centre crop (no augmentation)."""
        o = (CUBE - CROP) // 2
        out = []
        with torch.no_grad():
            for chunk in np.array_split(idx, max(1, len(idx) // 1024)):
                c = X[chunk, o:o + CROP, o:o + CROP, o:o + CROP].astype(np.float32)
                out.append(net(torch.from_numpy(window(c))).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    net = fit(None)
    hard_count = 0
    if a.hard_negatives > 0:
        scores = centre_logits(net, neg)
        hard_count = max(1, int(len(neg) * a.hard_negatives))
        hard = neg[np.argsort(-scores, kind="stable")[:hard_count]]
        print(f"hard negatives: {hard_count} of {len(neg)} (logit from {scores.max():.2f} down to "
              f"{np.sort(scores)[-hard_count]:.2f}); second fit, {time.time() - t0:.0f} s", flush=True)
        net = fit(hard)

    # The command as it reads on any machine: folders by their seeds, not this machine's paths.
    command = ["scripts/train_faint_network.py", "--maxima", "<triage train-prior --maxima-csv of the same folders>",
               "--from"] + [f"<phantom seed {s}>" for s in sorted(folders)]
    if held:
        command += ["--holdout-seeds", ",".join(str(s) for s in sorted(held))]
    if a.seed:
        command += ["--seed", str(a.seed)]
    training = {"command": " ".join(command),
                "seeds": ",".join(str(s) for s in seeds_used), "cubes": str(len(y)), "positives": str(len(pos)),
                "hard_negatives": str(hard_count),
                "pytorch": torch.__version__}
    # The combination is the patch network's field; the faint network's logit only orders.
    export(net, {"weight": 0.0, "offset": 0.0, "tree_score_floor": 1.0}, training, a.out, patch_size=CROP)
    print("wrote", a.out)

    # Held-out report: nodules reached by the faint maxima each order takes from a scan.
    reached = {f"hand-made {a.budget}": [0, 0], f"hand-made {a.budget} + network {a.network_budget}": [0, 0],
               f"hand-made {a.budget + a.network_budget}": [0, 0]}
    total = [0, 0]
    for seed in sorted(held):
        folder, truth = folders[seed]
        for case in (c for c in truth["cases"] if c["format"] == "dicom"):
            rows = maxima[(maxima.seed == seed) & (maxima.case == case["case_id"])]
            rows = rows.sort_values("hu_mass_rank", ascending=False, kind="stable")
            first, pool = rows.nodule.to_numpy()[:a.budget], rows.iloc[a.budget:a.budget + a.pool]
            series = load_series(os.path.join(folder, case["folder"]))
            with torch.no_grad():
                logits = np.concatenate([np.zeros(0)] + [
                    net(torch.from_numpy(window(sample(series, chunk, CROP)))).numpy()
                    for chunk in np.array_split(pool[["x_mm", "y_mm", "z_mm"]].to_numpy(), max(1, len(pool) // 512))
                    if len(chunk)])
            chosen = pool.nodule.to_numpy()[np.argsort(-logits, kind="stable")][:a.network_budget]
            orders = dict(zip(reached, [first, np.concatenate([first, chosen]),
                                        rows.nodule.to_numpy()[:a.budget + a.network_budget]]))
            for k, n in enumerate(case["nodules"]):
                group = 0 if n["type"] == "solid" else 1
                total[group] += 1
                for name, order in orders.items():
                    if k in order:
                        reached[name][group] += 1
    if held:
        print(f"held-out seeds {sorted(held)}: nodules with one of the faint maxima taken from the scan "
              f"(no suppression)")
        for name, (solid, other) in reached.items():
            print(f"  {name}: {solid + other} of {sum(total)} (solid {solid} of {total[0]}, "
                  f"ground glass and part-solid {other} of {total[1]})")

if __name__ == "__main__":
    main()
