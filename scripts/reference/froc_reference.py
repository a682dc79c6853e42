#!/usr/bin/env python3
"""Independent Python reference for `triage evaluate` (LUNA16-style FROC scoring).

Written separately from the Swift code (Sources/Validation/Evaluation) to cross-check it: it
follows LUNA16's `noduleCADEvaluationLUNA16.py` (Setio et al., "Validation, comparison, and
combination of algorithms for automatic detection of pulmonary nodules in computed tomography
images: the LUNA16 challenge", Medical Image Analysis 42, 2017) step by step: candidate lists
FROCGTList / FROCProbList / excludeList, scikit-learn's roc_curve arithmetic rescaled to
false positives per scan, numpy.interp for the sensitivities, and the bootstrap's
computeMeanCI percentile rule. Deliberate differences from that script, shared with the Swift
code and documented in docs/evaluation.md:
  * a finding inside several nodules goes to the nearest centre (LUNA16: first annotation);
  * a curve without any hit has sensitivity 0 (LUNA16: NaN);
  * the bootstrap draws scans from a SplitMix64 stream so both implementations draw the same.

Usage:
  froc_reference.py generate OUT_DIR [--seed S] [--cases N]
      writes OUT_DIR/truth.json and OUT_DIR/reports/<folder>/findings.json: a random case set
      with ties, duplicate hits, findings inside two nodules, findings exactly on a nodule's
      boundary, failed, missing and unmatched reports.
  froc_reference.py evaluate TRUTH REPORTS_DIR [--bootstrap N] [--seed S] [--out FILE]
      prints (or writes) the reference results as JSON.

Needs numpy and scipy (scipy.stats.rankdata for the AUC). If scikit-learn is importable, the
FROC points are also checked against sklearn.metrics.roc_curve, the function LUNA16 calls.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
from scipy.stats import rankdata

RATES = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
GRID = [2.0 ** (-3.0 + k / 16.0) for k in range(97)]
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# Random stream shared with the Swift bootstrap.

class SplitMix64:
    """Steele, Lea & Flood 2014. index(n) = high 64 bits of next() * n."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def index(self, n):
        return (self.next() * n) >> 64


# ---------------------------------------------------------------------------------------------
# Reading.

def load_truth(path):
    with open(path) as f:
        truth = json.load(f)
    assert truth["schema"] == "triage.truth.v1", path
    return truth["cases"]


def load_reports(directory):
    reports = {}
    warnings = []
    paths = []
    for root, _dirs, files in os.walk(directory):
        for name in files:
            if name == "findings.json":
                paths.append(os.path.relpath(os.path.join(root, name), directory))
    for rel in sorted(paths):
        try:
            with open(os.path.join(directory, rel)) as f:
                doc = json.load(f)
            uid = doc["study"]["series_instance_uid"]
            status = doc["status"]
        except Exception as error:  # noqa: BLE001 - a reference tool: report and go on
            warnings.append(f"{rel}: skipped ({error})")
            continue
        assert uid not in reports, f"two reports for one series: {rel}"
        reports[uid] = dict(path=rel, status=status,
                            score=(doc.get("triage") or {}).get("score"),
                            findings=doc.get("findings", []) if status == "ok" else [])
    return reports, warnings


# ---------------------------------------------------------------------------------------------
# Matching (per scan), LUNA16 distance rule with nearest-centre assignment.

def match_scan(nodules, findings):
    """Returns (best score per nodule or None, best finding per nodule, FP scores,
    duplicate hits, findings inside several nodules)."""
    best = [None] * len(nodules)
    best_finding = [None] * len(nodules)
    hits = [0] * len(nodules)
    fp_scores = []
    several = 0
    if nodules:
        centres = np.array([n["center_mm"] for n in nodules], dtype=np.float64)
        radius_sq = np.array([(n["diameter_mm"] / 2.0) ** 2 for n in nodules], dtype=np.float64)
    for finding in findings:
        score = float(finding["score"])
        if not nodules:
            fp_scores.append(score)
            continue
        p = np.array(finding["center_mm"], dtype=np.float64)
        # Same summation order as LUNA16: dx^2 + dy^2 + dz^2.
        d = centres - p
        dist_sq = d[:, 0] ** 2 + d[:, 1] ** 2 + d[:, 2] ** 2
        inside = dist_sq < radius_sq
        if inside.sum() > 1:
            several += 1
        if not inside.any():
            fp_scores.append(score)
            continue
        masked = np.where(inside, dist_sq, np.inf)
        k = int(np.argmin(masked))  # first index on a tie
        hits[k] += 1
        if best[k] is None or score > best[k]:
            best[k] = score
            best_finding[k] = finding
    duplicates = sum(max(0, h - 1) for h in hits)
    return best, best_finding, fp_scores, duplicates, several


# ---------------------------------------------------------------------------------------------
# FROC, following LUNA16's computeFROC.

def roc_curve_numpy(y_true, y_score):
    """scikit-learn's roc_curve (drop_intermediate=False) in plain numpy."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_score = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(y_score, kind="mergesort")[::-1]
    y_score = y_score[order]
    y_true = y_true[order]
    distinct = np.where(np.diff(y_score))[0]
    threshold_idxs = np.r_[distinct, y_true.size - 1]
    tps = np.cumsum(y_true)[threshold_idxs]
    fps = 1 + threshold_idxs - tps
    thresholds = y_score[threshold_idxs]
    tps = np.r_[0, tps]
    fps = np.r_[0, fps]
    thresholds = np.r_[np.inf, thresholds]
    with np.errstate(invalid="ignore", divide="ignore"):
        fpr = fps / fps[-1]
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def compute_froc(gt, prob, n_images, exclude):
    """LUNA16 computeFROC. gt/prob/exclude: candidate lists (missed nodules are gt 1, prob -1,
    excluded). Returns fps per scan, sensitivity, thresholds."""
    gt = np.asarray(gt, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    keep = ~np.asarray(exclude, dtype=bool)
    gt_local = gt[keep]
    prob_local = prob[keep]
    detected = gt_local.sum()
    total_lesions = gt.sum()
    total_candidates = len(prob_local)
    if total_candidates == 0:
        fps = np.zeros(1)
        sens = np.array([0.0 if total_lesions > 0 else np.nan])
        return fps, sens, np.array([np.inf])
    fpr, tpr, thresholds = roc_curve_numpy(gt_local, prob_local)
    if sum(gt) == len(gt):  # LUNA16's border case: no false positives at all
        fps = np.zeros(len(fpr))
    else:
        fps = fpr * (total_candidates - detected) / n_images
    if total_lesions == 0:
        sens = np.full(len(tpr), np.nan)
    elif detected == 0:
        sens = np.zeros(len(tpr))  # LUNA16 would give NaN here
    else:
        sens = (tpr * detected) / total_lesions
    return fps, sens, thresholds


def froc_lists(scans, include):
    """Builds LUNA16's candidate lists for a set of matched scans.
    scans: list of (nodules, best, fp_scores). include(nodule) selects counted nodules."""
    gt, prob, exclude = [], [], []
    for nodules, best, fp_scores in scans:
        for nodule, score in zip(nodules, best):
            if not include(nodule):
                continue  # hits on it are neither hits nor false positives
            if score is None:
                gt.append(1.0); prob.append(-1.0); exclude.append(True)
            else:
                gt.append(1.0); prob.append(score); exclude.append(False)
        for score in fp_scores:
            gt.append(0.0); prob.append(score); exclude.append(False)
    return gt, prob, exclude


def sensitivities(fps, sens, rates):
    return [float(v) for v in np.interp(rates, fps, sens)]


def mean_ci(values, confidence=0.95):
    """LUNA16 computeMeanCI on one column, NaNs (undefined replicates) dropped."""
    vec = np.sort(np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64))
    if len(vec) == 0:
        return None
    pz = (1.0 - confidence) / 2.0
    low = vec[int(math.floor(pz * len(vec)))]
    high = vec[min(len(vec) - 1, int(math.floor((1.0 - pz) * len(vec))))]
    return dict(low=float(low), high=float(high), mean=float(np.mean(vec)), replicates=int(len(vec)))


def auc_mann_whitney(pos, neg):
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = rankdata(np.r_[pos, neg])  # average ranks for ties
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0
    return float(u / (len(pos) * len(neg)))


# ---------------------------------------------------------------------------------------------

def evaluate(truth_path, reports_dir, replicates, seed):
    cases = load_truth(truth_path)
    reports, warnings = load_reports(reports_dir)
    truth_uids = {c["series_instance_uid"] for c in cases}
    unmatched = sorted(r["path"] for uid, r in reports.items() if uid not in truth_uids)

    matched = []  # per scan: (nodules, best, fp_scores)
    best_findings = []
    missing, failed = [], 0
    totals = dict(findings=0, false_positives=0, duplicate_hits=0, inside_several_nodules=0)
    auc_items = []  # (scan index, score, positive)
    excluded_small = 0
    for index, case in enumerate(cases):
        report = reports.get(case["series_instance_uid"])
        findings, score = [], None
        if report is None:
            missing.append(case["case_id"])
        elif report["status"] == "failed":
            failed += 1
        else:
            findings, score = report["findings"], report["score"]
        best, best_finding, fp_scores, dup, several = match_scan(case["nodules"], findings)
        totals["findings"] += len(findings)
        totals["false_positives"] += len(fp_scores)
        totals["duplicate_hits"] += dup
        totals["inside_several_nodules"] += several
        matched.append((case["nodules"], best, fp_scores))
        best_findings.append(best_finding)
        large = any(n["diameter_mm"] >= 6 for n in case["nodules"])
        if not case["nodules"] or large:
            auc_items.append((index, -math.inf if score is None else float(score), large))
        else:
            excluded_small += 1

    selections = {"all": lambda n: True, "ge6": lambda n: n["diameter_mm"] >= 6}
    result = dict(missing_reports=missing, failed_reports=failed, unmatched_reports=unmatched,
                  warnings=warnings, **totals)
    n_images = len(cases)
    curves = {}
    for key, include in selections.items():
        gt, prob, exclude = froc_lists(matched, include)
        fps, sens, thr = compute_froc(gt, prob, n_images, exclude)
        check_against_sklearn(gt, prob, exclude, n_images, fps, sens)
        curves[key] = (fps, sens, thr)
        at_rates = sensitivities(fps, sens, RATES)
        result[key] = dict(
            nodules=int(sum(gt)),
            points=[dict(fps_per_scan=float(f), sensitivity=(None if math.isnan(s) else float(s)),
                         threshold=(None if math.isinf(t) else float(t))) for f, s, t in zip(fps, sens, thr)],
            sensitivities=at_rates,
            cpm=float(np.mean(at_rates)),
            grid=sensitivities(fps, sens, GRID),
        )

    # Operating points on the all-nodule curve.
    fps, sens, thr = curves["all"]
    j = int(np.nonzero(fps <= 1.0)[0][-1])
    operating = {"fps_per_scan<=1": float(thr[j]), "max_sensitivity": float(thr[-1])}
    result["operating_points"] = {}
    for name, threshold in operating.items():
        rows = []
        for nodules, best, _fp in matched:
            for nodule, score in zip(nodules, best):
                rows.append((nodule, score is not None and score >= threshold))
        groups = {}
        for nodule, detected in rows:
            d = nodule["diameter_mm"]
            size = "<6 mm" if d < 6 else ("6-10 mm" if d < 10 else ">=10 mm")
            for kind, value in (("size", size), ("type", nodule.get("type") or "unspecified"),
                                ("location", nodule.get("location") or "unspecified")):
                entry = groups.setdefault(kind, {}).setdefault(value, [0, 0])
                entry[0] += 1
                entry[1] += int(detected)
        errors, solid_errors, sphere_errors, typed, correct = [], [], [], 0, 0
        for (nodules, best, _fp), bests in zip(matched, best_findings):
            for nodule, score, finding in zip(nodules, best, bests):
                if score is None or score < threshold:
                    continue
                # The equal-volume diameter when the report gives it (the truth's definition).
                measured = finding.get("equivalent_diameter_mm")
                if measured is None:
                    measured = finding.get("diameter_mm")
                if measured is not None:
                    e = abs(measured - nodule["diameter_mm"])
                    errors.append(e)
                    if nodule.get("type") == "solid" and nodule["diameter_mm"] >= 6:
                        solid_errors.append(e)
                # Lung-RADS diameter (mean of the axes) of spheres, signed.
                if nodule.get("shape") == "spherical" and finding.get("diameter_mm") is not None:
                    sphere_errors.append(finding["diameter_mm"] - nodule["diameter_mm"])
                if finding.get("type") is not None and nodule.get("type") is not None:
                    typed += 1
                    correct += int(finding["type"] == nodule["type"])
        result["operating_points"][name] = dict(
            threshold=(None if math.isinf(threshold) else threshold),
            groups={k: {g: dict(nodules=v[0], detected=v[1]) for g, v in d.items()} for k, d in groups.items()},
            diameter_mae_mm=(float(np.mean(errors)) if errors else None),
            solid_6mm_or_larger_diameter_mae_mm=(float(np.mean(solid_errors)) if solid_errors else None),
            sphere_lung_rads_compared=len(sphere_errors),
            sphere_lung_rads_diameter_mae_mm=(float(np.mean(np.abs(sphere_errors))) if sphere_errors else None),
            sphere_lung_rads_diameter_bias_mm=(float(np.mean(sphere_errors)) if sphere_errors else None),
            type_compared=typed, type_correct=correct)

    pos = [s for _, s, p in auc_items if p]
    neg = [s for _, s, p in auc_items if not p]
    auc = auc_mann_whitney(pos, neg)
    result["study_auc"] = dict(positives=len(pos), negatives=len(neg), excluded_small_nodules_only=excluded_small,
                               auc=(None if math.isnan(auc) else auc))

    if replicates > 0:
        rng = SplitMix64(seed)
        samples = {key: dict(rates=[], cpm=[], grid=[]) for key in selections}
        auc_samples = []
        for _ in range(replicates):
            draw = [rng.index(n_images) for _ in range(n_images)]
            boot_scans = [matched[i] for i in draw]  # concatenated, as generateBootstrapSet does
            for key, include in selections.items():
                gt, prob, exclude = froc_lists(boot_scans, include)
                fps, sens, _t = compute_froc(gt, prob, n_images, exclude)
                at = sensitivities(fps, sens, RATES)
                samples[key]["rates"].append(at)
                samples[key]["cpm"].append(float(np.mean(at)))
                samples[key]["grid"].append(sensitivities(fps, sens, GRID))
            by_scan = {}
            for i, s, p in auc_items:
                by_scan[i] = (s, p)
            bpos = [by_scan[i][0] for i in draw if i in by_scan and by_scan[i][1]]
            bneg = [by_scan[i][0] for i in draw if i in by_scan and not by_scan[i][1]]
            auc_samples.append(auc_mann_whitney(bpos, bneg))
        for key in selections:
            rates = np.array(samples[key]["rates"])
            grid = np.array(samples[key]["grid"])
            result[key]["sensitivity_ci"] = [mean_ci(rates[:, i]) for i in range(len(RATES))]
            result[key]["cpm_ci"] = mean_ci(samples[key]["cpm"])
            result[key]["grid_ci"] = [mean_ci(grid[:, i]) for i in range(len(GRID))]
        result["study_auc"]["ci"] = mean_ci(auc_samples)
        result["bootstrap"] = dict(replicates=replicates, seed=seed)
    return result


def check_against_sklearn(gt, prob, exclude, n_images, fps, sens):
    """When scikit-learn is present, LUNA16's own path (roc_curve with its default
    drop_intermediate) must give the same interpolated sensitivities."""
    try:
        from sklearn.metrics import roc_curve
    except ImportError:
        return
    keep = ~np.asarray(exclude, dtype=bool)
    g = np.asarray(gt)[keep]
    p = np.asarray(prob)[keep]
    if len(g) == 0 or g.sum() == 0 or g.sum() == len(g):
        return
    fpr, tpr, _ = roc_curve(g, p)
    sk_fps = fpr * (len(p) - g.sum()) / n_images
    sk_sens = tpr * g.sum() / np.asarray(gt).sum()
    grid = np.linspace(0.125, 8, 10001)
    assert np.allclose(np.interp(grid, sk_fps, sk_sens), np.interp(grid, fps, sens), atol=1e-12), \
        "numpy FROC differs from sklearn roc_curve"


# ---------------------------------------------------------------------------------------------
# Random case set.

TYPES = ["solid", "part-solid", "ground-glass"]
LOCATIONS = ["isolated", "juxtavascular", "juxtapleural"]


def generate(out_dir, seed, n_cases):
    rng = np.random.default_rng(seed)
    cases = []
    reports = []
    q = lambda v: float(round(v, 2))  # two decimals: plenty of score ties
    for index in range(n_cases):
        uid = f"1.2.826.0.1.3680043.99.{seed}.{index}.2"
        nodules = []
        if rng.random() > 0.3:
            for k in range(int(rng.integers(1, 4))):
                diameter = float(round(float(np.exp(rng.uniform(np.log(3), np.log(30)))), 1))
                centre = [q(rng.uniform(-150, 150)), q(rng.uniform(-150, 100)), q(rng.uniform(-350, -50))]
                nodules.append(dict(id=f"n{k + 1}", center_mm=centre, diameter_mm=diameter,
                                    volume_mm3=float(round(math.pi / 6 * diameter ** 3, 1)),
                                    type=TYPES[int(rng.integers(3))], shape="spherical",
                                    location=LOCATIONS[int(rng.integers(3))]))
            if len(nodules) >= 2 and rng.random() < 0.5:
                # Overlapping pair: put nodule 2 so that the spheres intersect.
                a, b = nodules[0], nodules[1]
                gap = 0.6 * (a["diameter_mm"] + b["diameter_mm"]) / 2
                b["center_mm"] = [q(a["center_mm"][0] + gap), a["center_mm"][1], a["center_mm"][2]]
        findings = []
        for n in nodules:
            r = n["diameter_mm"] / 2
            if rng.random() < 0.8:
                for _ in range(int(rng.integers(1, 4))):
                    direction = rng.normal(size=3)
                    direction /= np.linalg.norm(direction)
                    offset = direction * rng.uniform(0, 0.95) * r
                    findings.append(dict(center_mm=[q(c + o) for c, o in zip(n["center_mm"], offset)],
                                         score=q(rng.beta(5, 2)),
                                         diameter_mm=float(round(n["diameter_mm"] + rng.normal(0, 1.0), 1)),
                                         type=(n["type"] if rng.random() < 0.85 else TYPES[int(rng.integers(3))])))
            if rng.random() < 0.15:
                # Exactly on the boundary (axis-aligned, exact in binary): not a hit.
                c = n["center_mm"]
                findings.append(dict(center_mm=[c[0], c[1], c[2] + r], score=q(rng.beta(2, 3)),
                                     diameter_mm=4.0, type="solid"))
            if rng.random() < 0.2:
                # Just outside the sphere: a false positive.
                c = n["center_mm"]
                findings.append(dict(center_mm=[c[0] + 1.05 * r, c[1], c[2]], score=q(rng.beta(3, 3)),
                                     diameter_mm=5.0, type="solid"))
        if len(nodules) >= 2:
            # A finding midway between the first two nodules (inside both when they overlap).
            a, b = nodules[0]["center_mm"], nodules[1]["center_mm"]
            findings.append(dict(center_mm=[q((x + y) / 2) for x, y in zip(a, b)], score=q(rng.beta(4, 2)),
                                 diameter_mm=7.0, type="solid"))
        for _ in range(int(rng.poisson(2.0))):
            findings.append(dict(center_mm=[q(rng.uniform(-150, 150)), q(rng.uniform(-150, 100)),
                                            q(rng.uniform(-350, -50))],
                                 score=q(rng.beta(2, 5)), diameter_mm=float(round(rng.uniform(3, 12), 1)),
                                 type=TYPES[int(rng.integers(3))]))
        order = rng.permutation(len(findings))
        findings = [findings[i] for i in order]
        cases.append(dict(case_id=f"case-{index:03d}", patient_id=f"PHANTOM-{index:03d}",
                          study_instance_uid=f"1.2.826.0.1.3680043.99.{seed}.{index}.1",
                          series_instance_uid=uid, folder=f"case-{index:03d}", format="dicom",
                          slices=100, rows=128, columns=128, nodules=nodules))
        status = "ok"
        if index in (3, 17):
            status = "failed"
        if index in (5, 22):
            continue  # missing report
        triage_score = q(max([f["score"] for f in findings], default=0.0)) if status == "ok" else None
        reports.append((f"study-{index:03d}", uid, status, triage_score, findings if status == "ok" else []))
    reports.append(("study-orphan", f"1.2.826.0.1.3680043.99.{seed}.{n_cases}.2", "ok", 0.5,
                    [dict(center_mm=[0.0, 0.0, -100.0], score=0.9, diameter_mm=8.0, type="solid")]))

    os.makedirs(out_dir, exist_ok=True)
    truth = dict(schema="triage.truth.v1", seed=seed, generator="froc_reference.py generate", cases=cases)
    with open(os.path.join(out_dir, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
    for folder, uid, status, triage_score, findings in reports:
        path = os.path.join(out_dir, "reports", folder)
        os.makedirs(path, exist_ok=True)
        doc = dict(schema="triage.findings.v1", status=status,
                   error=(None if status == "ok" else "could not decode series"),
                   study=dict(patient_id="ANON", study_instance_uid=uid + ".s", series_instance_uid=uid),
                   triage=(dict(priority="routine", score=triage_score) if status == "ok" else None),
                   findings=[dict(id=f"f{k + 1}", rank=k + 1, **f) for k, f in
                             enumerate(sorted(findings, key=lambda f: -f["score"]))])
        with open(os.path.join(path, "findings.json"), "w") as f:
            json.dump(doc, f)  # compact: the fixture stays small
            f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("out_dir")
    g.add_argument("--seed", type=int, default=2024)
    g.add_argument("--cases", type=int, default=40)
    e = sub.add_parser("evaluate")
    e.add_argument("truth")
    e.add_argument("reports_dir")
    e.add_argument("--bootstrap", type=int, default=0)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.out_dir, args.seed, args.cases)
        return
    result = evaluate(args.truth, args.reports_dir, args.bootstrap, args.seed)
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
