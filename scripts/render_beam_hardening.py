#!/usr/bin/env python3
"""Draws a phantom with and without beam hardening: soft-tissue window and the difference.

usage: scripts/render_beam_hardening.py PLAIN_SERIES HARDENED_SERIES [OUT_PNG]
  PLAIN_SERIES     `triage phantom DIR --cases 1 --seed S`, DIR/case-000
  HARDENED_SERIES  the same with `--beam-hardening-fraction 1` (the artefact has its own
                   random stream, so everything else is identical)
  OUT_PNG          default docs/images/phantom-beam-hardening.png

Rows: the plain slice, the slice with the artefact (window 40/400), their difference (blue
darker, red brighter, +-40 HU), at the thoracic inlet (93 % of the series' height), the upper
chest (80 %) and mid-chest (50 %). Prints, per level, the 1st and 99th percentiles of the
difference in soft tissue more than 4 mm from bone and its median in bone. Needs numpy,
scipy, matplotlib, pydicom.
"""
import glob, os, sys
import numpy as np
import pydicom
from scipy import ndimage as ndi
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def volume(folder):
    files = [pydicom.dcmread(f) for f in glob.glob(os.path.join(folder, "*.dcm"))]
    if not files:
        sys.exit(f"{folder}: no DICOM files")
    files.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    hu = np.stack([d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in files])
    return hu, float(files[0].PixelSpacing[0])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    plain, pixel_mm = volume(sys.argv[1])
    hardened, _ = volume(sys.argv[2])
    if plain.shape != hardened.shape:
        sys.exit("the two series differ in size: render them with the same seed and options")
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "docs", "images",
                                                             "phantom-beam-hardening.png")
    levels = [("thoracic inlet", 0.93), ("upper chest", 0.8), ("mid-chest", 0.5)]
    fig, axes = plt.subplots(3, len(levels), figsize=(4.2 * len(levels), 12.6))
    n = plain.shape[0]
    for column, (name, fraction) in enumerate(levels):
        k = int(n * fraction)
        a, b = plain[k], hardened[k]
        difference = b - a
        bone = a > 300
        soft = (a > -150) & (a < 100) & (ndi.distance_transform_edt(~bone) * pixel_mm > 4)
        print(f"{name} (slice {k}): soft tissue p1 {np.percentile(difference[soft], 1):.0f} HU, "
              f"p99 {np.percentile(difference[soft], 99):.0f} HU; bone median {np.median(difference[bone]):.0f} HU")
        window = lambda x: np.clip((x - 40 + 200) / 400, 0, 1)
        axes[0, column].imshow(window(a), cmap="gray")
        axes[0, column].set_title(f"plain, {name}", fontsize=9)
        axes[1, column].imshow(window(b), cmap="gray")
        axes[1, column].set_title(f"beam hardening, {name}", fontsize=9)
        axes[2, column].imshow(difference, cmap="RdBu_r", vmin=-40, vmax=40)
        axes[2, column].set_title("difference: blue -40 HU, red +40 HU", fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=64)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
