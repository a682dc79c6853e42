#!/usr/bin/env python3
"""Trains the detector's patch network (Sources/Detection/PatchNetwork.swift) on the
candidates of phantom scans made with TRAINING seeds, and writes its weights to
Sources/Detection/Model/patch-network-3d.json.

    python3 scripts/train_patch_network.py --features WORK/features-patch.csv \
        --from WORK/train1100 WORK/train1101 ... [--out Sources/Detection/Model/patch-network-3d.json]

`--features` is what `triage train --mode 3d --from ... --features-csv F` writes for the same
folders in the same order (scripts/train_detector.sh does both steps): one row per candidate
with its label and LPS centre. For each candidate this script samples a HU cube of 32^3 at
1 mm, aligned with the patient axes, trilinear, from the DICOM files read with pydicom; its
central 28^3 is what the detector samples (CandidatePatch.swift), and training crops 28^3 at
random shifts of up to 2 mm. It trains the network with PyTorch (CPU),
folds batch normalisation into the convolutions and writes the file the detector loads.

The network (docs/detection.md, "Patch network"): 4 convolutions 3^3 (8, 16, 32, 32 channels,
ReLU, max pool 2 after the first three), global max, dense 32 + ReLU, dense 1. Trained with
binary cross-entropy on batches of 64 that are a quarter positive (positives are 1.2 % of the
candidates), AdamW (lr 2e-3 one-cycle, weight decay 1e-4), 10 epochs of 16,000 cubes, each
cropped at a random shift, flipped along each axis at random and its axes permuted.

`--truth-positives` adds one positive cube at each truth nodule's own centre (tried on
2026-12-05 and not adopted: docs/detection.md, "Known gaps").

Needs: pip install numpy scipy pydicom, and PyTorch for CPU
(pip install torch --index-url https://download.pytorch.org/whl/cpu). About 6 min to sample
60,000 cubes and 20 min to train on this 2-core machine. Deterministic for a given seed up to
PyTorch's floating-point reduction order. Never give it evaluation seeds (docs/phantoms.md).
"""
import argparse
import base64
import csv
import json
import os
import sys
import time

import numpy as np

CUBE = 32          # sampled per axis
CROP = 28          # the network's input per axis (random crops of the cube while training)
STEP_MM = 1.0
WINDOW_HU = (-1000.0, 400.0)


def load_series(folder):
    """HU volume [slice, row, column] and its geometry (DICOM patient coordinates, LPS)."""
    import pydicom
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))
    ds = [pydicom.dcmread(f) for f in files]
    iop = np.array(ds[0].ImageOrientationPatient, float)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    ds.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), normal)))
    slices = []
    for d in ds:
        raw = d.pixel_array
        hu = raw.astype(np.float32) * float(getattr(d, "RescaleSlope", 1)) + float(getattr(d, "RescaleIntercept", 0))
        pad = getattr(d, "PixelPaddingValue", None)
        if pad is not None:
            hu[raw == pad] = WINDOW_HU[0]
        slices.append(hu)
    origin = np.array(ds[0].ImagePositionPatient, float)
    row_spacing, col_spacing = (float(v) for v in ds[0].PixelSpacing)
    slice_spacing = float(np.dot(np.array(ds[1].ImagePositionPatient, float) - origin, normal))
    return np.stack(slices), origin, row_dir, col_dir, normal, row_spacing, col_spacing, slice_spacing


def sample_cubes(rows, scans, out_path):
    """int16 HU cubes [n, z, y, x] around each CSV row's LPS centre (CandidatePatch.swift)."""
    from scipy.ndimage import map_coordinates
    cubes = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.int16, shape=(len(rows), CUBE, CUBE, CUBE))
    g = (np.arange(CUBE) - (CUBE - 1) / 2) * STEP_MM
    oz, oy, ox = np.meshgrid(g, g, g, indexing="ij")
    offsets = np.stack([ox.ravel(), oy.ravel(), oz.ravel()], 1)
    by_scan = {}
    for i, r in enumerate(rows):
        by_scan.setdefault(int(r["scan"]), []).append(i)
    t0 = time.time()
    for s in sorted(by_scan):
        vol, origin, row_dir, col_dir, normal, drow, dcol, dslice = load_series(scans[s])
        for i in by_scan[s]:
            r = rows[i]
            p = np.array([float(r["x_mm"]), float(r["y_mm"]), float(r["z_mm"])]) + offsets - origin
            index = [p @ normal / dslice, p @ col_dir / drow, p @ row_dir / dcol]
            v = map_coordinates(vol, index, order=1, mode="constant", cval=WINDOW_HU[0])
            cubes[i] = np.clip(v, -1024, 3000).reshape(CUBE, CUBE, CUBE).astype(np.int16)
        print(f"sampled scan {s} ({scans[s]}): {len(by_scan[s])} candidates, {time.time() - t0:.0f} s", flush=True)
    cubes.flush()
    return np.load(out_path, mmap_mode="r")


def build_network():
    import torch.nn as nn
    import torch.nn.functional as F

    class PatchNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [1, 8, 16, 32, 32]
            self.convs = nn.ModuleList(nn.Conv3d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:]))
            self.norms = nn.ModuleList(nn.BatchNorm3d(b) for b in widths[1:])
            self.fc = nn.Linear(32, 32)
            self.out = nn.Linear(32, 1)

        def forward(self, cube):
            x = cube.unsqueeze(1)
            for k, (conv, norm) in enumerate(zip(self.convs, self.norms)):
                x = F.relu(norm(conv(x)))
                if k < 3:
                    x = F.max_pool3d(x, 2)
            x = x.amax((2, 3, 4))
            return self.out(F.dropout(F.relu(self.fc(x)), 0.3, self.training)).squeeze(1)

    return PatchNet()


def window(x):
    return (np.clip(x.astype(np.float32), *WINDOW_HU) - WINDOW_HU[0]) / (WINDOW_HU[1] - WINDOW_HU[0])


def augment(batch, rng):
    out = np.empty((len(batch), CROP, CROP, CROP), np.float32)
    for i, cube in enumerate(batch):
        o = rng.integers(0, CUBE - CROP + 1, 3)
        x = cube[o[0]:o[0] + CROP, o[1]:o[1] + CROP, o[2]:o[2] + CROP]
        for axis in range(3):
            if rng.random() < 0.5:
                x = np.flip(x, axis)
        out[i] = np.transpose(x, rng.permutation(3))
    return out


def f32_base64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().numpy(), dtype="<f4").tobytes()).decode()


def export(net, combination, training, path, patch_size=CROP):
    """Batch normalisation folded into each convolution: w' = w g / s, b' = (b - mean) g / s + beta.
    A max pool of 2 after every convolution but the last; also writes scripts/train_faint_network.py's network."""
    convolutions = []
    for k, (conv, norm) in enumerate(zip(net.convs, net.norms)):
        scale = norm.weight / (norm.running_var + norm.eps).sqrt()
        w = conv.weight * scale.view(-1, 1, 1, 1, 1)
        b = (conv.bias - norm.running_mean) * scale + norm.bias
        convolutions.append({"inputs": conv.in_channels, "outputs": conv.out_channels, "kernel": 3, "padding": 1,
                             "pool": 2 if k < len(net.convs) - 1 else 1, "weights": f32_base64(w),
                             "bias": [float(v) for v in b.detach().numpy()]})
    dense = [{"inputs": d.in_features, "outputs": d.out_features, "weights": f32_base64(d.weight),
              "bias": [float(v) for v in d.bias.detach().numpy()]} for d in (net.fc, net.out)]
    doc = {"schema": "triage.patch-network.v1", "patch_size": patch_size, "step_mm": STEP_MM, "window_hu": list(WINDOW_HU),
           "convolutions": convolutions, "dense": dense, "combination": combination, "training": training}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True, help="triage train --features-csv output for the same folders")
    ap.add_argument("--from", dest="folders", nargs="+", required=True, help="phantom folders, in the CSV's order")
    ap.add_argument("--out", default="Sources/Detection/Model/patch-network-3d.json")
    ap.add_argument("--cubes", help="where to keep the sampled cubes (.npy; reused when present)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--per-epoch", type=int, default=16000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weight", type=float, default=1.0, help="combination: weight of the network's logit")
    ap.add_argument("--floor", type=float, default=1e-3, help="combination: trees' score below which the network is not run")
    ap.add_argument("--truth-positives", action="store_true",
                    help="also one positive cube at each truth nodule's own centre (truth.json), not only at the candidates that hit it")
    a = ap.parse_args()

    import torch
    import torch.nn.functional as F
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(a.seed)

    scans, seeds, truth_rows = [], [], []
    for folder in a.folders:
        truth = json.load(open(os.path.join(folder, "truth.json")))
        if 9000 <= truth["seed"] <= 9099:
            sys.exit(f"{folder} was made with evaluation seed {truth['seed']}; train on 1000-1999")
        seeds.append(truth["seed"])
        for case in (c for c in truth["cases"] if c["format"] == "dicom"):
            for nodule in case["nodules"]:
                x, y, z = nodule["center_mm"]
                truth_rows.append({"scan": str(len(scans)), "label": "1", "x_mm": x, "y_mm": y, "z_mm": z})
            scans.append(os.path.join(folder, case["folder"]))
    rows = list(csv.DictReader(open(a.features)))
    if max(int(r["scan"]) for r in rows) >= len(scans):
        sys.exit("the CSV has more scans than the folders: give the folders in the CSV's order")
    labels = np.array([int(r["label"]) for r in rows], np.float32)
    cube_path = a.cubes or os.path.join(os.path.dirname(os.path.abspath(a.features)), "patch-cubes.npy")
    if os.path.exists(cube_path) and np.load(cube_path, mmap_mode="r").shape[0] == len(rows):
        cubes = np.load(cube_path, mmap_mode="r")
    else:
        cubes = sample_cubes(rows, scans, cube_path)
    cubes = np.asarray(cubes)
    if a.truth_positives:
        # Candidates that hit a small juxtavascular nodule often sit on the vessel beside it;
        # a cube at the nodule's own centre shows the network what the nodule looks like.
        truth_path = cube_path.replace(".npy", "-truth.npy")
        if os.path.exists(truth_path) and np.load(truth_path, mmap_mode="r").shape[0] == len(truth_rows):
            truth_cubes = np.load(truth_path, mmap_mode="r")
        else:
            truth_cubes = sample_cubes(truth_rows, scans, truth_path)
        cubes = np.concatenate([cubes, np.asarray(truth_cubes)])
        labels = np.concatenate([labels, np.ones(len(truth_rows), np.float32)])
    positives, negatives = np.where(labels == 1)[0], np.where(labels == 0)[0]
    print(f"{len(scans)} scans, {len(rows)} candidates, {len(positives)} positive"
          f" ({len(truth_rows) if a.truth_positives else 0} at truth centres)", flush=True)

    net = build_network()
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    batch, steps = 64, a.per_epoch // 64
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=a.epochs * steps)
    t0 = time.time()
    for epoch in range(a.epochs):
        total = 0.0
        for _ in range(steps):
            idx = np.concatenate([rng.choice(positives, batch // 4), rng.choice(negatives, batch - batch // 4)])
            x = torch.from_numpy(window(augment(cubes[idx], rng)))
            loss = F.binary_cross_entropy_with_logits(net(x), torch.from_numpy(labels[idx]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / steps:.4f}, {time.time() - t0:.0f} s", flush=True)
    net.eval()

    # The network saw a quarter positives, the trees the candidates' own rate. Taken as
    # independent evidence (naive Bayes), the joined log-odds are the trees' plus the network's
    # less the log-odds of its sampling rate: offset = logit(1/4).
    sampled = 0.25
    offset = float(np.log(sampled / (1 - sampled)))
    combination = {"weight": a.weight, "offset": offset, "tree_score_floor": a.floor}
    # The command as `triage train` records its own: phantom folders by their seed, files by
    # name, so the model does not carry this machine's scratch paths.
    folder_seed = {os.path.abspath(f): s for f, s in zip(a.folders, seeds)}
    def recorded(arg):
        if os.path.abspath(arg) in folder_seed:
            return f"<phantom seed {folder_seed[os.path.abspath(arg)]}>"
        return os.path.basename(arg) if os.sep in arg else arg
    training = {
        "command": "python3 scripts/train_patch_network.py " + " ".join(recorded(x) for x in sys.argv[1:]),
        "seeds": " ".join(str(s) for s in seeds),
        "scans": str(len(scans)), "candidates": str(len(rows)), "positives": str(len(positives)),
        "truth_centred_positives": str(len(truth_rows) if a.truth_positives else 0),
        "epochs": str(a.epochs), "cubes_per_epoch": str(steps * batch), "torch": torch.__version__,
    }
    export(net, combination, training, a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
