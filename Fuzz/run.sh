#!/usr/bin/env bash
# Builds the libFuzzer target for the DICOM parser and runs it on a seed corpus.
#   Fuzz/run.sh [SECONDS]        default 120
# Seeds: the committed DICOM fixtures. New inputs go to Fuzz/corpus-work/ (ignored by git);
# crashes are written to Fuzz/bin/ as crash-* files. The last line of libFuzzer's output,
# "Done N runs in S second(s)", gives the execution count.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
mkdir -p Fuzz/bin Fuzz/corpus-work
sources=()
for f in Sources/Input/DICOM/*.swift; do
    [[ "$(basename "$f")" == "JPEGDCTDecoder.swift" ]] && continue
    sources+=("$f")
done
swiftc -sanitize=fuzzer,address -O -g -parse-as-library -module-name DICOMFuzz \
    "${sources[@]}" Fuzz/JPEGDCTDecoderStub.swift Fuzz/FuzzDICOMParser.swift -o Fuzz/bin/fuzz-dicom
cp -n Tests/DICOMTests/Fixtures/*.dcm Fuzz/corpus-work/ 2>/dev/null || true
cd Fuzz/bin
./fuzz-dicom ../corpus-work -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 2>&1 | tail -25
