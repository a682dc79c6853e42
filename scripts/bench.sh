#!/usr/bin/env bash
# Every ordo-one/benchmark suite in Benchmarks/ with one command (release build):
#
#   scripts/bench.sh                                  all suites: kernels, decode, detection, full study
#   scripts/bench.sh --target KernelBenchmarks        one suite (DecodeBenchmarks, DetectionBenchmarks, StudyBenchmarks)
#   scripts/bench.sh --target KernelBenchmarks --filter 'Gaussian.*'   some benchmarks of one suite
#   scripts/bench.sh --quick                          smoke run on small inputs (figures not to be quoted)
#
# Any other argument goes to `swift package benchmark` (e.g. `--format markdown`, `--no-progress`).
# Steps: scripts/setup.sh (Debian packages), `swift build -c release -j ${BENCH_JOBS:-1}` of the
# Benchmarks package (it compiles the whole main package in release: about 7 minutes on 2 cores,
# hence one job; compiler errors show here), then the plugin (same build, incremental). The suites generate their input phantom study on first use
# (about a minute, cached in ${TRIAGE_BENCH_CACHE:-$TMPDIR/triage-bench}); TRIAGE_BENCH_PHANTOM=DIR
# uses an existing `triage phantom DIR --cases 1 --png --jpeg` output instead (Benchmarks/README.md).
# The machine (CPU, cores, load average before and after) is printed with the results, the
# whole output is kept in Benchmarks/results/bench-<UTC time>.txt (gitignored), and
# Benchmarks/bench_medians.py turns it into one table of medians (bench-<UTC time>-medians.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

args=()
for a in "$@"; do
    if [[ "$a" == "--quick" ]]; then
        # Small inputs: a 128x128x48 phantom study at the detector's 1.25 mm grid, 32-slice kernel volume.
        export TRIAGE_BENCH_SIZE="${TRIAGE_BENCH_SIZE:-128}" TRIAGE_BENCH_SLICES="${TRIAGE_BENCH_SLICES:-48}"
        export TRIAGE_BENCH_PIXEL_SPACING_MM="${TRIAGE_BENCH_PIXEL_SPACING_MM:-1.25}"
        export TRIAGE_BENCH_SLICE_SPACING_MM="${TRIAGE_BENCH_SLICE_SPACING_MM:-1.25}"
        export TRIAGE_BENCH_KERNEL_SLICES="${TRIAGE_BENCH_KERNEL_SLICES:-32}"
    else
        args+=("$a")
    fi
done

scripts/setup.sh

cd Benchmarks
echo "bench: building the Benchmarks package (release, -j ${BENCH_JOBS:-1}) ..." >&2
swift build -c release -j "${BENCH_JOBS:-1}" >&2

mkdir -p results
log="results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
machine() {
    echo "date (UTC): $(date -u '+%Y-%m-%d %H:%M:%S')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
    echo "memory: $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "load average ($1): $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
}
{
    machine "before"
    [[ -n "${TRIAGE_BENCH_SIZE:-}${TRIAGE_BENCH_SLICES:-}${TRIAGE_BENCH_KERNEL_SLICES:-}" ]] && \
        echo "inputs: TRIAGE_BENCH_SIZE=${TRIAGE_BENCH_SIZE:-512} TRIAGE_BENCH_SLICES=${TRIAGE_BENCH_SLICES:-300} TRIAGE_BENCH_KERNEL_SLICES=${TRIAGE_BENCH_KERNEL_SLICES:-300} (not the default sizes)"
    echo
} | tee "$log"
# Progress bars only on a terminal (they would fill the kept log).
progress="--no-progress"; [[ -t 1 ]] && progress=""
status=0
swift package -j "${BENCH_JOBS:-1}" --allow-writing-to-package-directory benchmark $progress ${args[@]+"${args[@]}"} 2>&1 | tee -a "$log" || status=$?
{ echo; machine "after"; } | tee -a "$log"
echo "bench: output kept in $root/Benchmarks/$log" >&2
# One table of medians (p50) for docs/performance.md.
if command -v python3 >/dev/null && [[ "$status" -eq 0 ]]; then
    echo
    python3 bench_medians.py "$log" --markdown "${log%.txt}-medians.md" || true
    echo "bench: medians in $root/Benchmarks/${log%.txt}-medians.md" >&2
fi
exit "$status"
