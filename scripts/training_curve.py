#!/usr/bin/env python3
"""Would more training scans help? A learning curve for the 3D false-positive model.

    python3 scripts/training_curve.py --train WORK/features-3d.csv \
        --dev DEV/features-3d.csv --dev-truth DEV/d1300/truth.json DEV/d1301/truth.json \
        [--fractions 0.5 0.75 1] [--repeats 3] [--drop FEATURE ...]

The CSVs are what `triage train --features-csv` writes (scripts/train_detector.sh for the
training seeds; `triage train --mode 3d --from DEVFOLDER ... --features-csv F --out /tmp/x.json`
for development seeds). For each fraction of the training scans (drawn at random, --repeats
times) it fits gradient-boosted trees with the committed model's settings (300 trees of
depth 3, learning rate 0.08, L2 2; scikit-learn's HistGradientBoostingClassifier, a close
stand-in for Detection's BoostedTrees: at the full set it gives the Swift model's
development CPM) and scores the development candidates. Per scan it reports a
candidate-level FROC in LUNA16's way: a nodule counts at a threshold when one of its
positive candidates scores above it; false positives are the negative candidates above it
(before the detector's hilar rule and finding cap, so slightly more than a report has).

Analysis only (needs `pip install scikit-learn numpy`); never give it evaluation seeds
(docs/phantoms.md).
"""
import argparse
import csv
import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

META = ("label", "scan", "nodule", "x_mm", "y_mm", "z_mm")
RATES = (1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8)


def load(path, drop=()):
    rows = list(csv.DictReader(open(path)))
    names = [k for k in rows[0] if k not in META and k not in drop]
    x = np.array([[float(r[k]) for k in names] for r in rows])
    y = np.array([int(r["label"]) for r in rows])
    scan = np.array([int(r["scan"]) for r in rows])
    nodule = np.array([int(r["nodule"] or -1) for r in rows])
    return x, y, scan, nodule


def froc(score, label, nodule, diameters, scans, minimum_mm=0.0):
    """Mean sensitivity over RATES and the sensitivity at 1 FP/scan."""
    wanted = [g for g, d in enumerate(diameters) if d >= minimum_mm]
    best = {}
    for s, l, n in zip(score, label, nodule):
        if l == 1 and n >= 0:
            best[n] = max(best.get(n, 0.0), s)
    negatives = np.sort(score[label == 0])[::-1]
    sens = []
    for rate in RATES:
        k = int(rate * scans)
        threshold = negatives[k] if k < len(negatives) else 0.0
        sens.append(np.mean([best.get(g, -1.0) > threshold for g in wanted]))
    return float(np.mean(sens)), float(sens[RATES.index(1)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--dev-truth", nargs="+", required=True,
                    help="truth.json files in the order the --dev CSV's folders were given")
    ap.add_argument("--fractions", nargs="+", type=float, default=[0.5, 0.75, 1.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--drop", nargs="*", default=[],
                    help="feature columns to leave out (to compare feature sets on the same candidates)")
    a = ap.parse_args()

    xt, yt, st, _ = load(a.train, a.drop)
    xd, yd, _, nd = load(a.dev, a.drop)
    cases = [c for t in a.dev_truth for c in json.load(open(t))["cases"] if c["format"] == "dicom"]
    # The CSV numbers nodules across all scans in reading order.
    diameters = [n["diameter_mm"] for c in cases for n in c["nodules"]]
    scans = np.unique(st)
    rng = np.random.default_rng(0)
    print(f"training: {len(scans)} scans, {len(yt)} candidates ({yt.sum()} positive); "
          f"development: {len(cases)} scans, {len(diameters)} nodules")
    print("fraction  scans  CPM all  CPM >=6 mm  sens@1 >=6 mm")
    for fraction in a.fractions:
        results = []
        for _ in range(a.repeats if fraction < 1 else 1):
            keep = rng.choice(scans, int(round(len(scans) * fraction)), replace=False) if fraction < 1 else scans
            rows = np.isin(st, keep)
            model = HistGradientBoostingClassifier(max_depth=3, max_iter=300, learning_rate=0.08,
                                                   l2_regularization=2.0, early_stopping=False, random_state=0)
            model.fit(xt[rows], yt[rows])
            p = model.predict_proba(xd)[:, 1]
            cpm_all, _ = froc(p, yd, nd, diameters, len(cases))
            cpm_big, sens_big = froc(p, yd, nd, diameters, len(cases), 6.0)
            results.append((cpm_all, cpm_big, sens_big))
        m = np.mean(results, axis=0)
        print(f"{fraction:8.2f}  {int(round(len(scans) * fraction)):5d}  {m[0]:7.3f}  {m[1]:10.3f}  {m[2]:13.3f}")


if __name__ == "__main__":
    main()
