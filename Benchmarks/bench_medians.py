#!/usr/bin/env python3
"""Median table from the text output of the ordo-one suites (`scripts/bench.sh` calls it).

    python3 Benchmarks/bench_medians.py Benchmarks/results/bench-<time>.txt [--markdown OUT.md]

Reads the plugin's text tables (one per benchmark: a row per metric, columns p0 ... p100 and
Samples) and prints one Markdown table with each benchmark's p50 (median) wall time in ms,
CPU time in ms, peak resident memory, throughput (Mvoxel/s, MB/s or GFLOP/s) and the number of
samples, with the load average lines the script wrote before and after the run.
Standard library only.
"""
import argparse
import re
import sys

TIME_UNITS_MS = {"ns": 1e-6, "μs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def parse(text):
    """Yields (suite, benchmark, {metric: (p50 string, samples)})."""
    suite, name, rows = None, None, {}
    lines = text.splitlines()
    results = []
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        # Suite headers are a name between two lines of '='.
        if i + 1 < len(lines) and line and not line.startswith(("│", "╒", "╞", "├", "╘", "=")) \
                and lines[i + 1].startswith("=") and i > 0 and lines[i - 1].startswith("="):
            suite = line.strip()
            continue
        if line.startswith("╒"):
            # The benchmark name is the last non-empty line before the table.
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            name, rows = lines[j].strip(), {}
            results.append((suite, name, rows))
            continue
        if line.startswith("│") and name is not None:
            cells = [c.strip() for c in line.strip("│").split("│")]
            if len(cells) >= 9 and cells[0] != "Metric":
                rows[cells[0]] = (cells[3], cells[8])
    return results


def time_ms(rows, prefix):
    for metric, (p50, _) in rows.items():
        m = re.match(re.escape(prefix) + r" \((\S+)\)", metric)
        if m and m.group(1) in TIME_UNITS_MS:
            return float(p50) * TIME_UNITS_MS[m.group(1)]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", help="text output kept by scripts/bench.sh (Benchmarks/results/bench-*.txt)")
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()
    text = open(args.log, encoding="utf-8", errors="replace").read()
    results = parse(text)
    if not results:
        sys.exit(f"{args.log}: no benchmark tables found (did the run fail? read the log)")
    out = [line for line in text.splitlines() if line.startswith(("date (UTC)", "load average", "cpu:", "inputs:"))]
    out += ["", "| suite | benchmark | median wall (ms) | median CPU (ms) | peak RSS (MB) | median throughput | samples |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for suite, name, rows in results:
        wall, cpu = time_ms(rows, "Time (wall clock)"), time_ms(rows, "Time (total CPU)")
        rss = next((p50 for m, (p50, _) in rows.items() if m.startswith("Memory (resident peak)")), "")
        throughput = []
        for metric, label, scale in (("Mvoxel/s", "Mvoxel/s", 1), ("MB/s", "MB/s", 1), ("MFLOP/s", "GFLOP/s", 1e-3)):
            if metric in rows:
                value = float(rows[metric][0]) * scale
                throughput.append(f"{value:.1f} {label}" if scale != 1 else f"{value:.0f} {label}")
        samples = next((s for _, s in rows.values()), "")
        fmt = lambda v: "" if v is None else (f"{v:.0f}" if v >= 10 else f"{v:.2f}")
        # CPU time comes from the OS in 10 ms ticks: below that it says nothing.
        cpu_text = "" if cpu is None else ("<10" if cpu < 10 else fmt(cpu))
        out.append(f"| {suite or ''} | {name} | {fmt(wall)} | {cpu_text} | {rss} | {', '.join(throughput)} | {samples} |")
    table = "\n".join(out) + "\n"
    sys.stdout.write(table)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(table)


if __name__ == "__main__":
    main()
