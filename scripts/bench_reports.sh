#!/usr/bin/env bash
# Cost of the report stage on a full-size study, measured with the product itself:
# one 512x512x300 phantom (seed 1003, dev seed, three nodules), `triage run` over it,
# then the report stage's wall time from findings.json (timing_ms.report: key images,
# report.html and findings.json of one study), the number of findings and of key images.
#
#   scripts/bench_reports.sh [RUNS]          (default 3 runs; prints each and the median)
#
# TRIAGE_BIN=path uses an existing release binary instead of building one.
# The phantom is cached in $TMPDIR/triage-bench-reports-phantom.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
if [[ -z "${TRIAGE_BIN:-}" ]]; then
    swift build -c release --product triage >&2
    TRIAGE_BIN="$(swift build -c release --show-bin-path)/triage"
fi
data="${TMPDIR:-/tmp}/triage-bench-reports-phantom"
if [[ ! -f "$data/truth.json" ]]; then
    "$TRIAGE_BIN" phantom "$data" --cases 1 --seed 1003 --clean-fraction 0 >&2
fi
times=()
for i in $(seq 1 "$runs"); do
    out="$(mktemp -d /tmp/bench-reports.XXXXXX)"
    "$TRIAGE_BIN" run "$data" --out "$out" --quiet >&2 || true
    line="$(python3 - "$out" <<'EOF'
import glob, json, os, sys
for path in glob.glob(os.path.join(sys.argv[1], "studies", "*", "findings.json")):
    d = json.load(open(path))
    images = len(os.listdir(os.path.join(os.path.dirname(path), "key-images")))
    print("%.0f %d %d" % (d["timing_ms"]["report"], len(d["findings"]), images))
EOF
)"
    rm -rf "$out"
    read -r ms findings images <<<"$line"
    echo "run $i: report stage ${ms} ms, ${findings} findings, ${images} key images"
    times+=("$ms")
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "median report stage: ${median} ms over ${runs} runs"
