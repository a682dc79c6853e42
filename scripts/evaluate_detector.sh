#!/usr/bin/env bash
# The detection issue's evaluation, as docs/detection.md reports it: renders the evaluation
# phantoms (seeds 9001 x 12 cases and 9002 x 8, full size), detects, and scores them with
# LUNA16's rule plus the check against the phantoms' own lungs.
#
#   scripts/evaluate_detector.sh [WORK_DIR]      (default /tmp/triage-evaluation)
#
# Rendered scans are kept in WORK_DIR and reused; reports are written afresh each run.
# Evaluation seeds are for measuring only: never tune or train on them (docs/phantoms.md).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/triage-evaluation}
swift build -c release --product triage >&2
TRIAGE=.build/release/triage
mkdir -p "$WORK"
for entry in E1:9001:12 E2:9002:8; do
    IFS=: read -r name seed cases <<< "$entry"
    if [ ! -f "$WORK/$name/truth.json" ]; then
        "$TRIAGE" phantom "$WORK/$name" --cases "$cases" --seed "$seed"
    fi
done
rm -rf "$WORK/reports"
"$TRIAGE" detect "$WORK/E1" --out "$WORK/reports/s1" > "$WORK/detect-E1.log"
"$TRIAGE" detect "$WORK/E2" --out "$WORK/reports/s2" > "$WORK/detect-E2.log"
# One truth file for both seeds: their case lists concatenated.
python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
a = json.load(open(f"{work}/E1/truth.json"))
b = json.load(open(f"{work}/E2/truth.json"))
a["cases"] = a["cases"] + b["cases"]
json.dump(a, open(f"{work}/merged-truth.json", "w"), indent=1)
EOF
"$TRIAGE" evaluate --truth "$WORK/merged-truth.json" "$WORK/reports" --out "$WORK/evaluation"
# The phantom-lung check re-plans each seed's lungs, so it runs per truth file.
"$TRIAGE" evaluate --truth "$WORK/E1/truth.json" "$WORK/reports/s1" --out "$WORK/lungs-E1" --phantom-lungs | grep -A20 "outside the phantom"
"$TRIAGE" evaluate --truth "$WORK/E2/truth.json" "$WORK/reports/s2" --out "$WORK/lungs-E2" --phantom-lungs | grep -A20 "outside the phantom"
echo "evaluation: $WORK/evaluation (evaluation.json, froc.png)"
