#!/usr/bin/env bash
# The detection issue's evaluation, as docs/detection.md reports it: renders the evaluation
# phantoms, detects, and scores them with LUNA16's rule plus the check against the phantoms'
# own lungs.
#
#   scripts/evaluate_detector.sh [WORK_DIR]      (default /tmp/triage-evaluation)
#
# Evaluation seeds, all 512x512:
#   E1  seed 9001, 12 cases  } 300 slices, so the generator fits 1-1.5 mm slices to the
#   E2  seed 9002,  8 cases  } chest: the headline figures (WORK_DIR/evaluation)
#   E3  seed 9003,  8 cases, 2.5 mm slices (140)    } the two ends of the phantom issue's
#   E4  seed 9004,  8 cases, 0.625 mm slices (500)  } 0.625-2.5 mm (added 2026-12-04)
#   E5  seed 9005,  8 cases, 300 slices, half of them with a pleural effusion, half with a
#       consolidation, half with a breathing band (added 2026-12-05): robustness to what
#       hospital scans have and the training scans do not
#   E6  seed 9006,  8 cases, 300 slices, half of them with multifocal ground-glass
#       opacities (viral-pneumonia pattern; added 2026-12-05)
#   E7  seed 9007,  8 cases, 300 slices, half of them with a pacemaker (metal and its
#       streaks; added 2026-12-05), and E7-plain, the same 8 cases without (the device has
#       its own random stream, so anatomy and nodules are identical): scored each on its own
#   E8  seed 9008,  8 cases, 300 slices, half of them with 1-4 calcified granulomas
#       (benign, Lung-RADS 1; added 2026-12-05): findings on them are set apart by
#       `evaluate`, which counts how many the detector put in category 1
#   E9  seed 9009,  8 cases, 300 slices, half of them with calcified plaque in the aortic wall
#       and half with calcified coronary plaque (added 2026-12-05), and E9-plain, the same 8
#       cases without (own random streams: anatomy and nodules identical); scored each on
#       its own, with `scripts/findings_near_mimics.py` on E9 (a finding on a plaque is one
#       outside the lungs)
#   E10 seed 9010,  8 cases, 300 slices, half of them with 1-3 parenchymal bands (linear
#       scars, `--scar-fraction`; added 2026-12-06), and E10-plain, the same 8 cases without
#       (own random stream); scored each on its own, with `scripts/findings_near_mimics.py`
#       on E10 (a finding on a band is a false positive)
#   E11 seed 9011,  8 cases, 300 slices, half of them with cylindrical bronchiectasis of a
#       lower lobe (`--bronchiectasis-fraction`; added 2026-12-06), and E11-plain, the same 8
#       cases without (own random stream); scored each on its own
#   E12 seed 9011 as E11, with every bronchiectasis holding mucus plugs
#       (`--mucus-plug-fraction 1`; added 2026-12-06; own random stream, so the cases without
#       bronchiectasis and everything but the plugs are E11's): scored on its own against E11,
#       with `scripts/findings_near_mimics.py` (a finding on a plugged bronchus is a false
#       positive)
#   E13 seed 9013,  8 cases, 300 slices, half of them with fibrotic interstitial lung disease
#       (`--fibrosis-fraction`; added 2026-12-06), and E13-plain, the same 8 cases without
#       (own random stream); scored each on its own
#   E14 seed 9014,  8 cases, 300 slices, half of them with 2-8 pleural plaques
#       (`--pleural-plaque-fraction`; added 2026-12-06), and E14-plain, the same 8 cases
#       without (own random stream); scored each on its own, with
#       `scripts/findings_near_mimics.py` on E14 (a finding on a plaque is one outside the
#       lungs, which the phantom-lung check counts)
#   E15 seed 9015,  8 cases, 300 slices, every one with a cardiac pulsation artefact
#       (`--cardiac-motion-fraction 1`: the heart border and the lung beside it shown
#       twice; added 2026-12-06), and E15-plain, the same 8 cases without; scored each on
#       its own
#   E16 seed 9016,  8 cases, 300 slices, half of them with bronchiectasis whose widened
#       bronchi end in cysts, some holding fluid (`--bronchiectasis-fraction 0.5
#       --bronchial-cyst-fraction 1`; added 2026-12-07); scored on its own, with
#       `scripts/findings_near_mimics.py` (a finding in a cyst is a false positive)
#   E17 seed 9017,  8 cases, 300 slices, every one with twice the fine peripheral vessels
#       (`--vessel-density 2`, nearer the real slices' vessels per area) and beam hardening
#       (`--beam-hardening-fraction 1`; added 2026-12-07): the detector on phantoms closer
#       to real CT than those it was trained on; scored on its own
#   E18 seed 9018, 16 cases, 300 slices, every one with vessel tree revision 2 and twice the
#       fine vessels (`--vessel-trees 2 --vessel-density 2`: the real slices' vessel dots per
#       area; added 2026-12-07, third session, after development sets vt1300-vt1301 showed
#       the detector losing ground glass there); scored on its own
#   E19 seed 9019,  8 cases, 300 slices, up to 8 nodules a case and 10 % clean (as the
#       development sets, so more of the small and ground-glass nodules E18 has few of), with
#       `--vessel-trees 2 --vessel-density 2`, and E19-plain, the same seed and nodule
#       options with the default vessels (the nodules are placed by the vessels, so not the
#       same nodules); scored each on its own (added 2026-12-07, third session)
#   E20 seed 9020,  8 cases, 300 slices, up to 8 nodules a case and 10 % clean, with every
#       revision the generator has that is nearer real CT and not yet the default: anatomy
#       revision 4, vessel tree revision 3 (four pulmonary veins), twice the fine vessels and
#       cardiophrenic fat pads (`--anatomy 4 --vessel-trees 3 --vessel-density 2
#       --cardiophrenic-fat-fraction 1`: a candidate generator 4), and E20-plain, the same seed
#       and nodule options with the defaults; scored each on its own (added 2026-12-08)
#   A4-E1, A4-E2  seeds 9001 and 9002 as E1 and E2 but with anatomy revision 4
#       (`--anatomy 4`: heart on the diaphragm, mediastinum shaped by its vessels, a
#       shallower chest; added 2026-12-05), scored together (WORK_DIR/evaluation-A4): the
#       detector on anatomy it was not trained on, against E1 + E2
#   M-E1, M-E2  seeds 9001 and 9002 as E1 and E2 but with every juxtapleural nodule moved
#       to the mediastinal pleura (`--mediastinal-nodule-fraction 1`; added 2026-12-05; the
#       other nodules stay where they are), scored together (WORK_DIR/evaluation-M): nodules
#       against the heart, the great vessels and the hilum, against E1 + E2
# E3-E20 are scored on their own (WORK_DIR/evaluation-E3 ... -E20) and E1-E4 together
# (WORK_DIR/evaluation-all; E5-E20 stay out of it, so that figure compares with earlier
# runs).
#
# Rendered scans are kept in WORK_DIR and reused; reports are written afresh each run.
# Evaluation seeds are for measuring only: never tune or train on them (docs/phantoms.md).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/triage-evaluation}
swift build -c release --product triage >&2
TRIAGE=.build/release/triage
mkdir -p "$WORK"
NAMES=()   # every set, in the order rendered; each is detected below
for entry in "E1:9001:12:" "E2:9002:8:" "E3:9003:8:--slice-spacing 2.5 --slices 140" \
             "E4:9004:8:--slice-spacing 0.625 --slices 500" \
             "E5:9005:8:--effusion-fraction 0.5 --consolidation-fraction 0.5 --motion-fraction 0.5" \
             "E6:9006:8:--ground-glass-fraction 0.5" \
             "E7:9007:8:--metal-fraction 0.5" "E7-plain:9007:8:" "E8:9008:8:--granuloma-fraction 0.5" \
             "E9:9009:8:--aortic-calcium-fraction 0.5 --coronary-calcium-fraction 0.5" "E9-plain:9009:8:" \
             "E10:9010:8:--scar-fraction 0.5" "E10-plain:9010:8:" \
             "E11:9011:8:--bronchiectasis-fraction 0.5" "E11-plain:9011:8:" \
             "E12:9011:8:--bronchiectasis-fraction 0.5 --mucus-plug-fraction 1" \
             "E13:9013:8:--fibrosis-fraction 0.5" "E13-plain:9013:8:" \
             "E14:9014:8:--pleural-plaque-fraction 0.5" "E14-plain:9014:8:" \
             "E15:9015:8:--cardiac-motion-fraction 1" "E15-plain:9015:8:" \
             "E16:9016:8:--bronchiectasis-fraction 0.5 --bronchial-cyst-fraction 1" \
             "E17:9017:8:--vessel-density 2 --beam-hardening-fraction 1" \
             "E18:9018:16:--vessel-trees 2 --vessel-density 2" \
             "E19:9019:8:--max-nodules 8 --clean-fraction 0.1 --vessel-trees 2 --vessel-density 2" \
             "E19-plain:9019:8:--max-nodules 8 --clean-fraction 0.1" \
             "E20:9020:8:--max-nodules 8 --clean-fraction 0.1 --anatomy 4 --vessel-trees 3 --vessel-density 2 --cardiophrenic-fat-fraction 1" \
             "E20-plain:9020:8:--max-nodules 8 --clean-fraction 0.1" \
             "A4-E1:9001:12:--anatomy 4" "A4-E2:9002:8:--anatomy 4" \
             "M-E1:9001:12:--mediastinal-nodule-fraction 1" "M-E2:9002:8:--mediastinal-nodule-fraction 1"; do
    IFS=: read -r name seed cases extra <<< "$entry"
    NAMES+=("$name")
    if [ ! -f "$WORK/$name/truth.json" ]; then
        # shellcheck disable=SC2086 # $extra is a list of options
        "$TRIAGE" phantom "$WORK/$name" --cases "$cases" --seed "$seed" $extra
    fi
done
# reports/headline/{E1,E2}, reports/{E3,E4}, and reports-E5, reports-E6 (outside reports/,
# which evaluation-all reads): `evaluate` reads a folder recursively.
reports_of() {
    case $1 in
        E1|E2) echo "$WORK/reports/headline/$1" ;;
        E5|E6|E7|E7-plain|E8|E9|E9-plain|E10|E10-plain|E11|E11-plain|E12|E13|E13-plain|E14|E14-plain|E15|E15-plain|E16|E17|E18|E19|E19-plain|E20|E20-plain) echo "$WORK/reports-$1" ;;
        A4-*) echo "$WORK/reports-A4/$1" ;;
        M-*) echo "$WORK/reports-M/$1" ;;
        *) echo "$WORK/reports/$1" ;;
    esac
}
rm -rf "$WORK/reports" "$WORK/reports-E5" "$WORK/reports-E6" "$WORK/reports-E7" "$WORK/reports-E7-plain" "$WORK/reports-E8" \
    "$WORK/reports-E9" "$WORK/reports-E9-plain" "$WORK/reports-E10" "$WORK/reports-E10-plain" \
    "$WORK/reports-E11" "$WORK/reports-E11-plain" "$WORK/reports-E12" "$WORK/reports-E13" \
    "$WORK/reports-E13-plain" "$WORK/reports-E14" "$WORK/reports-E14-plain" "$WORK/reports-E15" "$WORK/reports-E15-plain" "$WORK/reports-E16" "$WORK/reports-E17" "$WORK/reports-E18" "$WORK/reports-E19" "$WORK/reports-E19-plain" "$WORK/reports-E20" "$WORK/reports-E20-plain" "$WORK/reports-A4" "$WORK/reports-M"
for name in "${NAMES[@]}"; do
    "$TRIAGE" detect "$WORK/$name" --out "$(reports_of "$name")" > "$WORK/detect-$name.log"
done
# One truth file for several seeds: their case lists concatenated.
merge() {
    python3 - "$WORK" "$@" <<'EOF'
import json, sys
work, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
merged = json.load(open(f"{work}/{names[0]}/truth.json"))
for name in names[1:]:
    merged["cases"] += json.load(open(f"{work}/{name}/truth.json"))["cases"]
json.dump(merged, open(f"{work}/{out}", "w"), indent=1)
EOF
}
merge merged-truth.json E1 E2
merge all-truth.json E1 E2 E3 E4
merge A4-truth.json A4-E1 A4-E2
merge M-truth.json M-E1 M-E2
"$TRIAGE" evaluate --truth "$WORK/merged-truth.json" "$WORK/reports/headline" --out "$WORK/evaluation"
for name in E3 E4 E5 E6 E7 E7-plain E8 E9 E9-plain E10 E10-plain E11 E11-plain E12 E13 E13-plain E14 E14-plain E15 E15-plain E16 E17 E18 E19 E19-plain E20 E20-plain; do
    "$TRIAGE" evaluate --truth "$WORK/$name/truth.json" "$(reports_of "$name")" --out "$WORK/evaluation-$name"
done
"$TRIAGE" evaluate --truth "$WORK/all-truth.json" "$WORK/reports" --out "$WORK/evaluation-all"
"$TRIAGE" evaluate --truth "$WORK/A4-truth.json" "$WORK/reports-A4" --out "$WORK/evaluation-A4"
"$TRIAGE" evaluate --truth "$WORK/M-truth.json" "$WORK/reports-M" --out "$WORK/evaluation-M"
# The phantom-lung check re-plans each seed's lungs, so it runs per truth file.
for name in E1 E2 E3 E4 E5 E6 E7 E8 E9 E10 E11 E12 E13 E14 E15 E16 E17 E18 E19 E19-plain E20 E20-plain A4-E1 A4-E2 M-E1 M-E2; do
    "$TRIAGE" evaluate --truth "$WORK/$name/truth.json" "$(reports_of "$name")" --out "$WORK/lungs-$name" \
        --phantom-lungs | grep -A20 "outside the phantom"
done
python3 scripts/findings_near_mimics.py --truth "$WORK/E9/truth.json" "$(reports_of E9)" \
    || echo "E9: findings near coronary or aortic plaque (above)"
python3 scripts/findings_near_mimics.py --truth "$WORK/E10/truth.json" "$(reports_of E10)" \
    || echo "E10: findings near parenchymal bands (above)"
python3 scripts/findings_near_mimics.py --truth "$WORK/E12/truth.json" "$(reports_of E12)" \
    || echo "E12: findings near mucus-plugged bronchi (above)"
python3 scripts/findings_near_mimics.py --truth "$WORK/E14/truth.json" "$(reports_of E14)" \
    || echo "E14: findings near pleural plaques (above)"
python3 scripts/findings_near_mimics.py --truth "$WORK/E16/truth.json" "$(reports_of E16)" \
    || echo "E16: findings in bronchial cysts (above)"

echo "evaluation: $WORK/evaluation (E1+E2: evaluation.json, froc.png); 2.5 mm: $WORK/evaluation-E3;" \
     "0.625 mm: $WORK/evaluation-E4; all: $WORK/evaluation-all;" \
     "effusion/consolidation/breathing: $WORK/evaluation-E5; ground glass: $WORK/evaluation-E6;" \
     "pacemaker: $WORK/evaluation-E7 (without: -E7-plain); calcified granulomas: $WORK/evaluation-E8;" \
     "coronary and aortic calcium: $WORK/evaluation-E9 (without: -E9-plain);" \
     "parenchymal bands: $WORK/evaluation-E10 (without: -E10-plain);" \
     "bronchiectasis: $WORK/evaluation-E11 (without: -E11-plain); with mucus plugs: $WORK/evaluation-E12;" \
     "interstitial fibrosis: $WORK/evaluation-E13 (without: -E13-plain);" \
     "pleural plaques: $WORK/evaluation-E14 (without: -E14-plain);" \
     "cardiac pulsation: $WORK/evaluation-E15 (without: -E15-plain); bronchial cysts: $WORK/evaluation-E16;" \
     "denser peripheral vessels and beam hardening: $WORK/evaluation-E17;" \
     "vessels as dense as real CT's (tree revision 2, density 2): $WORK/evaluation-E18;" \
     "the same with up to 8 nodules a case: $WORK/evaluation-E19 (default vessels: -E19-plain);" \
     "anatomy 4, tree revision 3, density 2, fat pads: $WORK/evaluation-E20 (defaults: -E20-plain);" \
     "anatomy revision 4 (E1 + E2 seeds): $WORK/evaluation-A4;" \
     "nodules on the mediastinal pleura (E1 + E2 seeds): $WORK/evaluation-M"
