#!/usr/bin/env python3
"""Time per study against slice count: how the cost grows with the work.

    python3 Benchmarks/scaling.py                        # 512x512, 50/100/200/300 slices
    python3 Benchmarks/scaling.py --quick                # 128x128, 16/32/64 slices, 1 run (smoke test)
    python3 Benchmarks/scaling.py --slices 50 100 200 300 400 --runs 5

For each slice count, a phantom study (`triage phantom`, evaluation seed 9000 by default,
kept in Benchmarks/results/scaling/) at fixed pixel spacing (0.7 mm at 512) and fixed slice
spacing (1.0 mm), so that more slices means a longer stretch of chest and nothing else
changes (left to itself the generator would stretch the slice spacing to cover the whole chest
at every slice count). Measured per study, with the release `triage`:
  - decode: median wall time of `triage inspect --json SERIES` over --runs runs (whole process:
    discovery, sorting, decode into the HU volume, statistics);
  - detect: detect_ms_median of `triage detect SERIES --repeat R --json` (R = --repeat,
    default 3; our whole detector, decode excluded).
Fits, for detect, decode and their sum: a straight line (ms per slice + fixed ms) and the
exponent of a log-log fit (1 = linear growth). Writes Benchmarks/results/scaling.md (Markdown
table + fits), scaling.json and time-vs-slices.png; a run at 512x512 without --quick also
copies the plot to docs/images/time-vs-slices.png.

Sets up Benchmarks/.venv like compare_all.py (requirements.txt) and builds `triage` in
release unless --triage is given. The machine may be shared: say what else was running.
"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import compare_all  # noqa: E402  (shared set-up: venv, build, phantom, machine, timing)


def fit(slices, ms):
    """(ms per slice, fixed ms) of a least-squares line and the log-log exponent."""
    import numpy as np
    x, y = np.array(slices, float), np.array(ms, float)
    slope, intercept = np.polyfit(x, y, 1)
    exponent = float(np.polyfit(np.log(x), np.log(y), 1)[0]) if len(x) > 1 and (y > 0).all() else float("nan")
    return float(slope), float(intercept), exponent


def main():
    compare_all.ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512, help="matrix (columns = rows), default %(default)s")
    ap.add_argument("--slices", type=int, nargs="+", default=[50, 100, 200, 300], help="slice counts")
    ap.add_argument("--pixel-spacing", type=float, help="in-plane mm (default 0.7 x 512 / size)")
    ap.add_argument("--slice-spacing", type=float, default=1.0, help="slice spacing mm (default %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="runs of triage inspect per study (median)")
    ap.add_argument("--repeat", type=int, default=3, help="triage detect --repeat (median)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 128x128, 16/32/64 slices at 1.25 mm, 1 run")
    compare_all.add_build_arguments(ap)
    args = ap.parse_args()
    if args.quick:
        if args.size == 512:
            args.size = 128
        if args.slices == [50, 100, 200, 300]:
            args.slices = [16, 32, 64]
        # 1.25 mm = the detector's working grid, so its resampled volume stays as small as the series.
        args.pixel_spacing = args.pixel_spacing or 1.25
        args.slice_spacing = 1.25
        args.runs = args.repeat = 1
    pixel_spacing = args.pixel_spacing or 0.7 * 512 / args.size
    slice_counts = sorted(set(args.slices))
    if len(slice_counts) < 2:
        sys.exit("give at least two slice counts")

    import numpy as np
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    machine = compare_all.machine_description()
    triage = compare_all.build_triage(args)
    results = []
    for n in slice_counts:
        folder = os.path.join(compare_all.RESULTS, "scaling",
                              f"{args.size}x{n}-px{pixel_spacing:g}-dz{args.slice_spacing:g}-seed{args.seed}")
        series = compare_all.make_phantom(triage, folder, args.size, n, args.seed, pixel_spacing, args.slice_spacing)
        print(f"{args.size}x{args.size}x{n}: decode ...", file=sys.stderr)
        decode_s, _, _ = compare_all.triage_decode_seconds(triage, series, args.runs)
        print(f"{args.size}x{args.size}x{n}: detect ...", file=sys.stderr)
        detect = compare_all.triage_detect(triage, series, args.repeat)
        results.append({"slices": n, "decode_ms": decode_s * 1000, "detect_ms": detect["detect_ms_median"],
                        "detect_ms_all": detect["detect_ms_all"], "findings": detect["findings"],
                        "steps_ms": detect["steps_ms"]})

    xs = [r["slices"] for r in results]
    series_ms = {
        "detect": [r["detect_ms"] for r in results],
        "decode": [r["decode_ms"] for r in results],
        "decode + detect": [r["detect_ms"] + r["decode_ms"] for r in results],
    }
    fits = {k: fit(xs, v) for k, v in series_ms.items()}

    lines = [f"Machine: {machine}",
             f"Studies: `triage phantom` {args.size}x{args.size}, pixel {pixel_spacing:g} mm, slice spacing "
             f"{args.slice_spacing:g} mm, seed {args.seed}; decode = median of {args.runs} `triage inspect --json` "
             f"run(s), detect = `triage detect --repeat {args.repeat}` detect_ms_median"
             + ("; --quick (smoke test, not figures)" if args.quick else ""),
             "",
             "| slices | z extent (mm) | decode (ms) | detect (ms) | decode + detect (ms) | detect ms per slice | findings |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['slices']} | {(r['slices'] - 1) * args.slice_spacing:.0f} | {r['decode_ms']:.0f} | "
                     f"{r['detect_ms']:.0f} | {r['decode_ms'] + r['detect_ms']:.0f} | "
                     f"{r['detect_ms'] / r['slices']:.1f} | {r['findings']} |")
    lines.append("")
    for name, (slope, intercept, exponent) in fits.items():
        lines.append(f"- {name}: ms = {slope:.1f} x slices {intercept:+.0f} (least squares); "
                     f"log-log exponent {exponent:.2f} (1 = linear in the slice count)")
    text = "\n".join(lines) + "\n"
    print()
    print(text)

    out_dir = compare_all.RESULTS
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "scaling.md"), "w") as f:
        f.write(f"Command: `python3 Benchmarks/scaling.py {' '.join(sys.argv[1:])}`\n\n" + text)
    with open(os.path.join(out_dir, "scaling.json"), "w") as f:
        json.dump({"machine": machine, "size": args.size, "pixel_spacing_mm": pixel_spacing,
                   "slice_spacing_mm": args.slice_spacing, "results": results,
                   "fits": {k: {"ms_per_slice": v[0], "fixed_ms": v[1], "loglog_exponent": v[2]} for k, v in fits.items()}},
                  f, indent=1)

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    grid = np.linspace(0, max(xs) * 1.05, 50)
    for (name, ms), marker in zip(series_ms.items(), ["o", "s", "^"]):
        slope, intercept, exponent = fits[name]
        points = ax.plot(xs, [m / 1000 for m in ms], marker=marker, linestyle="none",
                         label=f"{name}: {slope:.1f} ms/slice, exponent {exponent:.2f}")[0]
        ax.plot(grid, (intercept + slope * grid) / 1000, color=points.get_color(), linewidth=1, alpha=0.6)
    ax.set_xlabel(f"slices ({args.size}x{args.size}, {args.slice_spacing:g} mm apart)")
    ax.set_ylabel("seconds per study (median)")
    ax.set_xlim(0, max(xs) * 1.05)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("triage: time per study vs slice count" + (" (--quick smoke test)" if args.quick else ""), fontsize=10)
    fig.text(0.01, 0.005, machine[:150], fontsize=6, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    png = os.path.join(out_dir, "time-vs-slices.png")
    fig.savefig(png + ".tmp.png")
    os.replace(png + ".tmp.png", png)
    print(f"wrote {os.path.join(out_dir, 'scaling.md')} and {png}")
    if args.size == 512 and not args.quick:
        docs_png = os.path.join(ROOT, "docs", "images", "time-vs-slices.png")
        shutil.copyfile(png, docs_png + ".tmp")
        os.replace(docs_png + ".tmp", docs_png)
        print(f"copied the plot to {docs_png}")


if __name__ == "__main__":
    main()
