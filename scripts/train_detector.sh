#!/usr/bin/env bash
# Reproduces the detector's false-positive models in Sources/Detection/Model/ from phantom
# scans rendered in memory with TRAINING seeds only (1000-1999; the evaluation seeds
# 9000-9099 are refused by `triage train`). Deterministic: the same seeds give the same model.
#
#   scripts/train_detector.sh            # both models, the committed settings
#
# Settings (see docs/detection.md for why): 512x512 phantoms with 300 slices, as at
# evaluation; seeds 1000-1002, 4 cases each (12 scans). The 2D model uses axial slices
# through each nodule of seeds 1003-1005.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --product triage --scratch-path "$SCRATCH" >&2
TRIAGE="$SCRATCH/release/triage"
"$TRIAGE" train --mode 3d --seed 1000 --seeds 3 --cases 4 --size 512 --slices 300 \
    --out Sources/Detection/Model/fp-model-3d.json
"$TRIAGE" train --mode 2d --seed 1003 --seeds 3 --cases 4 --size 512 --slices 300 \
    --out Sources/Detection/Model/fp-model-2d.json
