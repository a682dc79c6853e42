#!/usr/bin/env bash
# Reproduces the detector's false-positive models in Sources/Detection/Model/ from phantom
# scans rendered in memory with TRAINING seeds only (1000-1999; the evaluation seeds
# 9000-9099 are refused by `triage train`). Deterministic: the same seeds give the same model.
#
#   scripts/train_detector.sh            # both models, the committed settings
#
# Settings (see docs/detection.md for why): 256x256 phantoms with 150 slices (a full-size
# phantom takes minutes to render on the shared 2-core machine), seeds 1000-1001, 5 cases
# each (10 scans). The 2D model uses axial slices through each nodule of seed 1002.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --product triage --scratch-path "$SCRATCH" >&2
TRIAGE="$SCRATCH/release/triage"
"$TRIAGE" train --mode 3d --seed 1000 --seeds 2 --cases 5 --size 256 --slices 150 \
    --out Sources/Detection/Model/fp-model-3d.json
"$TRIAGE" train --mode 2d --seed 1002 --seeds 1 --cases 6 --size 256 --slices 150 \
    --out Sources/Detection/Model/fp-model-2d.json
