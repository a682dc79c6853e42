#!/bin/sh
# Regenerates sample-scans/ exactly (deterministic for the seed). Run from the repository root:
#   sample-scans/regenerate.sh [path/to/triage]
set -eu
TRIAGE=${1:-.build/release/triage}
cd "$(dirname "$0")/.."
rm -rf sample-scans/phantoms
"$TRIAGE" phantom sample-scans/phantoms --cases 3 --seed 1002 --size 160 --slices 56 \
    --pixel-spacing 1.8 --slice-spacing 3.5 --min-diameter 5 --max-diameter 24 \
    --clean-fraction 0.34 --vessel-territories 1800 --png --jpeg
