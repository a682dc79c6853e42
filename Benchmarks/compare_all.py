#!/usr/bin/env python3
"""Whole-study comparison: this project against the Python references, in one go, on one
generated chest-CT phantom study.

    python3 Benchmarks/compare_all.py                     # 512x512x300 study, median of 3 runs each
    python3 Benchmarks/compare_all.py --quick             # 128x128x48 study, 1 run each (smoke test)
    python3 Benchmarks/compare_all.py --size 512 --slices 300 --runs 5 --python-runs 3

From a fresh clone this one command:
  1. creates Benchmarks/.venv if it is missing, installs Benchmarks/requirements.txt there
     (pydicom, numpy, scipy, scikit-image, matplotlib) and re-runs itself inside it;
  2. builds `triage` in release mode (swift build -c release --product triage; --triage BIN
     skips it) and the kernels' timing tool Benchmarks/Tools/KernelsCompare (through
     compare_kernels.py's build; --kernels-tool BIN skips it);
  3. writes one phantom study with `triage phantom` (evaluation seed 9000 by default, see
     docs/phantoms.md; --clean-fraction 0 so the case has nodules; --quick adds
     --pixel-spacing 1.25 --slice-spacing 1.25, the detector's working grid) into Benchmarks/results/compare-all-study-<size>x<slices>-seed<S>/
     (kept and reused on the next run);
  4. times, on that same study:
     (a) reading the DICOM series (the pydicom side reads and sorts every file once, ours
         is one process start + read; file pages warm in the cache for both) into a float32 HU volume sorted along the slice normal:
         pydicom + numpy (compare_dicom_read.read_with_pydicom) vs `triage inspect --json`
         (whole process: discovery, sorting, parallel decode, HU statistics), cross-checked
         on slice count, padding voxels and mean HU first;
     (b) on the study's own HU volume (as read by pydicom, written as raw float32):
         scipy.ndimage gaussian_filter sigma 2 voxels; the six Hessian second derivatives at
         sigma 2 (gaussian_filter with order=) + numpy.linalg.eigvalsh; gaussian_laplace
         sigma 2 -- the same operations as compare_kernels.py -- vs our kernels through
         Tools/KernelsCompare (`kernels-compare --volume FILE --op ...`);
     (c) blob detection: skimage.feature.blob_log on the lung window of the volume vs
         `triage detect --repeat N --json` (detect_ms_median: our whole detector - lung mask,
         multi-scale dot filter, candidates, segmentation, measurement, scoring; decode not
         included on either side). blob_log parameters, for 3-30 mm nodules:
           - volume resampled (scipy.ndimage.zoom, linear; timed) to the 1.25 mm isotropic
             grid our detector works on (--blob-spacing; 0 = the native grid, per-axis sigmas);
           - lung window -600/1500 HU mapped to [0, 1] (nodules bright on dark lung);
           - sigma = radius / sqrt(3) for radii 1.5-15 mm: min_sigma 0.87 mm, max_sigma 8.66 mm
             (in voxels of the grid), num_sigma 8, log_scale=True, threshold 0.2 (skimage default), overlap 0.5.
         blob_log does far less than our detector (no lung mask, no segmentation or scoring),
         so the ratio flatters Python.
     (d) one full study through `triage run --pipeline pipelines/chest-ct-nightly.yaml`
         (wall_seconds of run-summary.json: decode, preprocess, detect, reports, worklist;
         a fresh output folder per run, so the resume journal never skips it). No Python
         counterpart.
  5. prints one Markdown table of medians and ratios (with the machine: CPU model, nproc,
     memory, load average) and writes it to Benchmarks/results/compare-all.md (and all
     figures to compare-all.json).

The machine may be shared: quote medians and say what else was running.
"""
import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv")
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
RESULTS = os.path.join(HERE, "results")
NIGHTLY_PIPELINE = os.path.join(ROOT, "pipelines", "chest-ct-nightly.yaml")
DEFAULT_SEED = 9000  # evaluation seed range 9000-9099 (docs/phantoms.md); never used for tuning


# ---------------------------------------------------------------------------------------------
# Shared set-up (also used by scaling.py)

def _requirements():
    pins = []
    with open(REQUIREMENTS) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, version = line.partition("==")
                pins.append((name.strip(), version.strip()))
    return pins


def _missing_requirements():
    from importlib import metadata
    missing = []
    for name, version in _requirements():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if version and installed != version:
            missing.append(f"{name} ({installed} installed, {version} wanted)")
    return missing


def ensure_venv():
    """Runs the calling script inside Benchmarks/.venv with requirements.txt installed."""
    if "-h" in sys.argv or "--help" in sys.argv:
        return  # argparse prints the help without a venv
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        if not os.path.exists(python):
            print("setting up Benchmarks/.venv", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        os.execv(python, [python] + sys.argv)
    missing = _missing_requirements()
    if missing:
        print("installing into Benchmarks/.venv: " + ", ".join(missing), file=sys.stderr)
        subprocess.run([python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS], check=True)


def build_triage(args):
    """Path of a release `triage`: --triage if given, else swift build -c release."""
    if args.triage:
        return os.path.abspath(args.triage)
    scratch = ["--scratch-path", args.scratch_path] if args.scratch_path else []
    cmd = ["swift", "build", "-c", "release", "--product", "triage"] + scratch
    print("building: " + " ".join(cmd), file=sys.stderr)
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        sys.exit("the release build of triage failed (compiler output above); fix it or pass --triage BIN")
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"] + scratch,
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_path, "triage")


def add_build_arguments(ap):
    ap.add_argument("--triage", help="a built release triage binary (skips the swift build)")
    ap.add_argument("--scratch-path", help="swift build --scratch-path for the release build (default .build)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help="phantom seed (default %(default)s, evaluation range 9000-9099)")


def make_phantom(triage, folder, size, slices, seed, pixel_spacing=None, slice_spacing=None):
    """One-case phantom study in `folder` (reused when complete); returns the series folder."""
    series = os.path.join(folder, "case-000")
    if os.path.exists(os.path.join(folder, "done")):
        return series
    if os.path.exists(folder):
        shutil.rmtree(folder)
    cmd = [triage, "phantom", folder, "--cases", "1", "--seed", str(seed), "--size", str(size),
           "--slices", str(slices), "--clean-fraction", "0"]
    if pixel_spacing:
        cmd += ["--pixel-spacing", str(pixel_spacing)]
    if slice_spacing:
        cmd += ["--slice-spacing", str(slice_spacing)]
    print("generating: " + " ".join(cmd[1:]), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    open(os.path.join(folder, "done"), "w").close()
    return series


def machine_description():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            memory = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    load = os.getloadavg()
    return (f"{model}, nproc {nproc}{memory}, {platform.system()} {platform.release()}; "
            f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")


def median_time(fn, runs):
    """Median and min wall seconds of `runs` calls of fn, and the last result."""
    times, result = [], None
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def run_checked(cmd, what):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{what} failed (exit {out.returncode}): {' '.join(cmd)}\n{out.stderr[-3000:]}")
    return out.stdout


def triage_decode_seconds(triage, series, runs):
    """Median wall seconds of `triage inspect --json SERIES` (one warm-up run first)."""
    run_checked([triage, "inspect", "--json", series], "triage inspect")
    return median_time(lambda: run_checked([triage, "inspect", "--json", series], "triage inspect"), runs)


def triage_detect(triage, series, runs):
    """The JSON line of `triage detect --repeat runs --json` for the study."""
    with tempfile.TemporaryDirectory(prefix="compare-all-detect-") as out:
        stdout = run_checked([triage, "detect", series, "--out", out, "--repeat", str(max(1, runs)), "--json"],
                             "triage detect")
    lines = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
    if len(lines) != 1:
        sys.exit(f"triage detect printed {len(lines)} series lines for {series}, expected 1")
    return lines[0]


# ---------------------------------------------------------------------------------------------
# The comparison

def study_spacing_zyx(study_folder):
    with open(os.path.join(study_folder, "truth.json")) as f:
        case = json.load(f)["cases"][0]
    return (float(case["slice_spacing_mm"]), float(case["pixel_spacing_mm"]), float(case["pixel_spacing_mm"])), case


def scipy_kernels(volume, runs):
    """The scipy.ndimage side of compare_kernels.py, on `volume`: median seconds per operation."""
    import numpy as np
    from scipy import ndimage
    s = {}
    s["gaussian"], _, _ = median_time(lambda: ndimage.gaussian_filter(volume, 2.0), runs)
    orders = [(0, 0, 2), (0, 2, 0), (2, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
    s["hessian"], _, d = median_time(lambda: [ndimage.gaussian_filter(volume, 2.0, order=o) for o in orders], runs)

    def eig():
        xx, yy, zz, xy, xz, yz = d
        h = np.empty(volume.shape + (3, 3), dtype=np.float32)
        h[..., 0, 0], h[..., 1, 1], h[..., 2, 2] = xx, yy, zz
        h[..., 0, 1] = h[..., 1, 0] = xy
        h[..., 0, 2] = h[..., 2, 0] = xz
        h[..., 1, 2] = h[..., 2, 1] = yz
        return np.linalg.eigvalsh(h)

    s["eigen"], _, _ = median_time(eig, runs)
    del d
    s["log"], _, _ = median_time(lambda: ndimage.gaussian_laplace(volume, 2.0), runs)
    return s


def our_kernels(tool, volume, runs):
    """Our kernels on the same volume through kernels-compare: median seconds per operation."""
    ours = {}
    with tempfile.TemporaryDirectory(prefix="compare-all-volume-") as tmp:
        path = os.path.join(tmp, "volume.f32")
        volume.astype("<f4").tofile(path)
        base = [tool, "--volume", path, "--shape"] + [str(n) for n in volume.shape] + ["--repeat", str(max(1, runs))]
        for op, key in [("gaussian", "gaussian_sigma2"), ("hessian_eigen", "hessian_eigen_sigma2"), ("log", "log_sigma2")]:
            result = json.loads(run_checked(base + ["--op", op], "kernels-compare"))
            ours[op] = result["ops"][key]["median_s"]
            ours["workers"] = result["workers"]
    return ours


BLOB_RADII_MM = (1.5, 15.0)  # nodules of 3-30 mm diameter
# skimage's default. On the lung window a solid nodule's scale-normalised LoG peak is well
# above it; 0.05 found ~6x more blobs (body wall, bone, vessels) and blob_log's overlap
# pruning, which grows with the blob count, then dominated its time.
BLOB_THRESHOLD = 0.2


def blob_log_study(volume, spacing_zyx, grid_mm):
    """skimage blob_log on the lung window, on a `grid_mm` isotropic grid (0 = native grid)."""
    import numpy as np
    from scipy import ndimage
    from skimage.feature import blob_log
    t0 = time.perf_counter()
    if grid_mm > 0:
        grid = ndimage.zoom(volume, [s / grid_mm for s in spacing_zyx], order=1)
        voxel_mm = (grid_mm, grid_mm, grid_mm)
    else:
        grid, voxel_mm = volume, spacing_zyx
    resample_s = time.perf_counter() - t0
    window = np.clip((grid + np.float32(1350.0)) / np.float32(1500.0), 0, 1).astype(np.float32)
    sigma_min = [BLOB_RADII_MM[0] / math.sqrt(3) / v for v in voxel_mm]
    sigma_max = [BLOB_RADII_MM[1] / math.sqrt(3) / v for v in voxel_mm]
    if grid_mm > 0:  # isotropic grid: scalar sigmas (blob_log's anisotropic pruning is much slower)
        sigma_min, sigma_max = sigma_min[0], sigma_max[0]
    blobs = blob_log(window, min_sigma=sigma_min, max_sigma=sigma_max, num_sigma=8, log_scale=True,
                     threshold=BLOB_THRESHOLD, overlap=0.5)
    return {"resample_s": resample_s, "blobs": int(len(blobs)), "grid": list(grid.shape)}


def full_run_seconds(triage, series, runs):
    """Median run-summary.json wall_seconds of `triage run` on the study, plus the last summary."""
    walls, summary = [], None
    for _ in range(max(1, runs)):
        with tempfile.TemporaryDirectory(prefix="compare-all-run-") as out:
            run_checked([triage, "run", "--pipeline", NIGHTLY_PIPELINE, series, "--out", out, "--quiet"], "triage run")
            with open(os.path.join(out, "run-summary.json")) as f:
                summary = json.load(f)
        if summary["studies"]["succeeded"] != 1:
            sys.exit(f"triage run: expected 1 successful study, summary says {summary['studies']}")
        walls.append(summary["wall_seconds"])
    return statistics.median(walls), min(walls), summary


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512, help="phantom matrix (columns = rows), default %(default)s")
    ap.add_argument("--slices", type=int, default=300, help="phantom slices, default %(default)s")
    ap.add_argument("--runs", type=int, default=3, help="runs of each of our measurements (median)")
    ap.add_argument("--python-runs", type=int, default=3, help="runs of each Python reference (median)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 128x128x48 study at 1.25 mm (so the detector's 1.25 mm grid stays small), 1 run each")
    ap.add_argument("--blob-spacing", type=float, default=1.25,
                    help="grid (mm) blob_log runs on, as our detector's working grid; 0 = native grid")
    ap.add_argument("--kernels-tool", help="a built kernels-compare binary (skips building Benchmarks/Tools)")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out: read,kernels,blobs,run")
    add_build_arguments(ap)
    args = ap.parse_args()
    pixel_spacing = slice_spacing = None
    if args.quick:
        args.runs = args.python_runs = 1
        if args.size == 512 and args.slices == 300:
            args.size, args.slices = 128, 48
        pixel_spacing = slice_spacing = 1.25
    skip = set(filter(None, args.skip.split(",")))

    import numpy as np
    import pydicom
    import scipy
    import skimage
    sys.path.insert(0, HERE)
    import compare_dicom_read
    import compare_kernels

    machine = machine_description()
    triage = build_triage(args)
    tool = None
    if "kernels" not in skip:
        tool = os.path.abspath(args.kernels_tool) if args.kernels_tool else compare_kernels.build_tool()
    study = os.path.join(RESULTS, f"compare-all-study-{args.size}x{args.slices}-seed{args.seed}"
                                  + ("-quick" if args.quick else ""))
    series = make_phantom(triage, study, args.size, args.slices, args.seed, pixel_spacing, slice_spacing)
    spacing_zyx, case = study_spacing_zyx(study)
    files = [f for f in os.listdir(series) if f.endswith(".dcm")]
    file_mb = sum(os.path.getsize(os.path.join(series, f)) for f in files) / 1e6

    rows = []  # (part, operation, python label, python s, ours label, ours s)
    extra = {}

    # (a) reading. Cross-check first: both readers agree on the volume.
    print("(a) reading the series ...", file=sys.stderr)
    volume, padding, mean_py = compare_dicom_read.read_with_pydicom(series)
    if padding == 0:  # read_with_pydicom sums HU only over series that have a Pixel Padding Value
        mean_py = float(volume.mean(dtype=np.float64))
    report = json.loads(run_checked([triage, "inspect", "--json", series], "triage inspect"))["series"][0]
    if report["size"]["slices"] != volume.shape[0] or report["hu_statistics"]["padding_voxels"] != padding or abs(report["hu_statistics"]["mean"] - mean_py) > 1e-3:
        sys.exit(f"cross-check failed: triage {report['size']} mean {report['hu_statistics']['mean']}, "
                 f"padding {report['hu_statistics']['padding_voxels']}, pydicom {volume.shape} mean {mean_py} padding {padding}")
    extra["cross_check"] = {"hu_mean_triage": report["hu_statistics"]["mean"], "hu_mean_pydicom": mean_py}
    if "read" not in skip:
        py_s, _, _ = median_time(lambda: compare_dicom_read.read_with_pydicom(series), args.python_runs)
        ours_s, _, _ = triage_decode_seconds(triage, series, args.runs)
        rows.append(("a", f"read {len(files)} DICOM files ({file_mb:.0f} MB) into a float32 HU volume",
                     f"pydicom {pydicom.__version__} + numpy", py_s, "`triage inspect --json` (whole process)", ours_s))

    # (b) kernels on the study's volume.
    if "kernels" not in skip:
        print("(b) kernels ...", file=sys.stderr)
        s = scipy_kernels(volume, args.python_runs)
        o = our_kernels(tool, volume, args.runs)
        extra["kernel_workers"] = o["workers"]
        extra["scipy_split_s"] = {"hessian_derivatives": s["hessian"], "eigvalsh": s["eigen"]}
        rows.append(("b", "Gaussian sigma 2 voxels", "scipy.ndimage.gaussian_filter", s["gaussian"],
                     "GaussianFilter", o["gaussian"]))
        rows.append(("b", "LoG sigma 2 voxels", "scipy.ndimage.gaussian_laplace", s["log"],
                     "LaplacianOfGaussian", o["log"]))
        rows.append(("b", "6 Hessian derivatives sigma 2 + eigenvalues",
                     "gaussian_filter(order=) x6 + numpy eigvalsh", s["hessian"] + s["eigen"],
                     "HessianFilter.eigenvalues", o["hessian_eigen"]))

    # (c) blob detection.
    if "blobs" not in skip:
        print("(c) blob detection ...", file=sys.stderr)
        blob_s, _, blob = median_time(lambda: blob_log_study(volume, spacing_zyx, args.blob_spacing), args.python_runs)
        detect = triage_detect(triage, series, args.runs)
        extra["blob_log"] = blob
        extra["detect"] = detect
        grid = "x".join(map(str, blob["grid"][::-1]))
        rows.append(("c", f"blob detection (Python: resample to {grid} + blob_log, {blob['blobs']} blobs; "
                          f"ours: whole detector, {detect['findings']} findings)",
                     f"skimage {skimage.__version__} blob_log", blob_s,
                     "`triage detect` (detect_ms_median)", detect["detect_ms_median"] / 1000))

    # (d) one full study.
    if "run" not in skip:
        print("(d) full study through triage run ...", file=sys.stderr)
        run_s, _, summary = full_run_seconds(triage, series, args.runs)
        extra["run_summary_stages_busy_s"] = {k: v["busy_seconds"] for k, v in summary["stages"].items()}
        rows.append(("d", "one full study: decode, lung mask, detection, reports, worklist", "-", None,
                     "`triage run` (run-summary.json wall_seconds)", run_s))

    volume_desc = (f"{case['columns']}x{case['rows']}x{case['slices']}, pixel {case['pixel_spacing_mm']:.3f} mm, "
                   f"slice {case['slice_spacing_mm']:.3f} mm, seed {args.seed}")
    lines = []
    lines.append(f"Machine: {machine}")
    lines.append(f"Study: `triage phantom` {volume_desc} ({len(files)} files, {file_mb:.0f} MB); "
                 f"ours median of {args.runs} run(s), Python median of {args.python_runs} run(s)"
                 + ("; --quick (smoke test, not figures)" if args.quick else ""))
    lines.append(f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
                 f"scikit-image {skimage.__version__}, pydicom {pydicom.__version__}"
                 + (f"; our kernels with {extra['kernel_workers']} workers" if "kernel_workers" in extra else ""))
    lines.append("")
    lines.append("| | operation | Python reference | Python (s) | ours | ours (s) | ours vs Python |")
    lines.append("|---|---|---|---:|---|---:|---:|")
    for part, op, py_name, py_s, our_name, our_s in rows:
        ratio = f"{py_s / our_s:.1f}x faster" if py_s and our_s else "-"
        py_text = f"{py_s:.3f}" if py_s is not None else "-"
        lines.append(f"| {part} | {op} | {py_name} | {py_text} | {our_name} | {our_s:.3f} | {ratio} |")
    lines.append("")
    if "scipy_split_s" in extra:
        lines.append(f"scipy split: Hessian derivatives {extra['scipy_split_s']['hessian_derivatives']:.2f} s "
                     f"+ eigvalsh {extra['scipy_split_s']['eigvalsh']:.2f} s.")
    if "blob_log" in extra:
        steps = ", ".join(f"{k} {v / 1000:.2f} s" for k, v in sorted(extra["detect"]["steps_ms"].items()))
        lines.append(f"blob_log: resample {extra['blob_log']['resample_s']:.2f} s of the total; "
                     f"lung window -600/1500 to [0,1], sigma {BLOB_RADII_MM[0]}-{BLOB_RADII_MM[1]} mm radius / sqrt(3), "
                     f"num_sigma 8 log-spaced, threshold {BLOB_THRESHOLD}, overlap 0.5. Our detector's steps: {steps}.")
    if "run_summary_stages_busy_s" in extra:
        busy = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(extra["run_summary_stages_busy_s"].items()))
        lines.append(f"triage run stage busy times: {busy}.")
    lines.append(f"Cross-check before timing: mean HU over non-padding voxels {extra['cross_check']['hu_mean_triage']:.4f} "
                 f"(triage) vs {extra['cross_check']['hu_mean_pydicom']:.4f} (pydicom).")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    md_path = os.path.join(RESULTS, "compare-all.md")
    tmp_path = md_path + ".tmp"
    with open(tmp_path, "w") as f:
        f.write(f"Command: `python3 Benchmarks/compare_all.py {' '.join(sys.argv[1:])}`\n\n" + text)
    os.replace(tmp_path, md_path)
    with open(os.path.join(RESULTS, "compare-all.json"), "w") as f:
        json.dump({"machine": machine, "study": volume_desc, "rows": rows, "extra": extra}, f, indent=1)
    print(f"wrote {md_path}")


if __name__ == "__main__":
    main()
