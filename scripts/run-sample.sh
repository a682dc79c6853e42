#!/usr/bin/env bash
# The main job on sample-scans/: installs what is missing, builds in release mode,
# runs the nightly pipeline and prints where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product triage
triage=".build/release/triage"
out="${OUT:-out/sample}"
status=0; "$triage" run --pipeline pipelines/chest-ct-nightly.yaml sample-scans --out "$out" || status=$?; echo "worklist: $out/worklist.html"; exit "$status"
