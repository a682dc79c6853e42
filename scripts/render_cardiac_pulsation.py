#!/usr/bin/env python3
"""Draws a phantom case with the cardiac pulsation artefact next to the same case without it.

usage: scripts/render_cardiac_pulsation.py WITH_DIR WITHOUT_DIR CASE [OUT_PNG] [--findings REPORTS]
  WITH_DIR     a set made with `triage phantom ... --cardiac-motion-fraction 1`
  WITHOUT_DIR  the same command without the option (the same seed and options)
  CASE         e.g. case-000
  OUT_PNG      default docs/images/phantom-cardiac-pulsation.png
  REPORTS      `triage detect WITH_DIR --out REPORTS`: findings within 40 mm of the crop's
               centre are circled on the crop of the slice nearest their centre

Top: the slice where the artefact changes most (lung window), 90 mm crops at the left heart
border without and with it, and their difference. Bottom: a coronal reformat through that
border without and with it (the steps along the heart come from the heartbeat's phase
changing from slice to slice), and how much each slice changed. Needs numpy, matplotlib,
pydicom.
"""
import glob, json, os, sys
import numpy as np
import pydicom
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

args = [a for a in sys.argv[1:]]
reports = None
if "--findings" in args:
    i = args.index("--findings"); reports = args[i + 1]; del args[i:i + 2]
with_dir, without_dir, case = args[:3]
out_png = args[3] if len(args) > 3 else os.path.join(os.path.dirname(__file__), "..", "docs", "images", "phantom-cardiac-pulsation.png")

def load(d):
    files = [pydicom.dcmread(f) for f in glob.glob(os.path.join(d, "*.dcm"))]
    iop = np.array(files[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    files.sort(key=lambda f: float(np.dot(normal, np.array(f.ImagePositionPatient, float))))
    v = np.stack([f.pixel_array.astype(np.float32) * float(f.RescaleSlope) + float(f.RescaleIntercept) for f in files])
    origin = np.array(files[0].ImagePositionPatient, float)
    px = float(files[0].PixelSpacing[0])
    dz = float(np.dot(normal, np.array(files[1].ImagePositionPatient, float) - origin))
    return v, origin, px, dz, files[0].SeriesInstanceUID

a, origin, px, dz, uid = load(os.path.join(with_dir, case))
b, _, _, _, _ = load(os.path.join(without_dir, case))
change = np.abs(a - b)
per_slice = change.reshape(a.shape[0], -1).mean(1)
k = int(np.argmax(per_slice))
# The left heart border: the changed pixel farthest to the patient's left (largest column
# in an LPS image whose columns run to the patient's left) on that slice.
rows, cols = np.nonzero(change[k] > 50)
c_border = int(np.percentile(cols, 97)); r_border = int(np.median(rows[cols > np.percentile(cols, 90)]))
h = int(45 / px)
r0, r1 = max(0, r_border - h), min(a.shape[1], r_border + h)
c0, c1 = max(0, c_border - h), min(a.shape[2], c_border + h)
lung = lambda x: np.clip((x + 1350) / 1500, 0, 1)

fig, axs = plt.subplots(2, 3, figsize=(15, 10.5))
axs[0, 0].imshow(lung(b[k, r0:r1, c0:c1]), cmap="gray"); axs[0, 0].set_title(f"without, slice {k} (90 mm crop)")
axs[0, 1].imshow(lung(a[k, r0:r1, c0:c1]), cmap="gray"); axs[0, 1].set_title("with cardiac pulsation")
im = axs[0, 2].imshow(np.clip(a[k, r0:r1, c0:c1] - b[k, r0:r1, c0:c1], -400, 400), cmap="RdBu_r")
axs[0, 2].set_title("with - without (HU, +-400)")
plt.colorbar(im, ax=axs[0, 2], fraction=0.046)
if reports:
    for f in glob.glob(os.path.join(reports, "studies", "*", "findings.json")):
        doc = json.load(open(f))
        if doc.get("study", {}).get("series_instance_uid") not in (None, uid):
            continue
        for fd in doc.get("findings", []):
            p = np.array(fd["center_mm"], float) - origin
            fc, fr, fk = p[0] / px, p[1] / px, p[2] / dz
            if abs(fk - k) <= 3 and c0 <= fc < c1 and r0 <= fr < r1:
                rad = fd.get("diameter_mm", 6) / px / 2 + 4
                axs[0, 1].add_patch(plt.Circle((fc - c0, fr - r0), rad, fill=False, color="cyan", lw=1.5))
                axs[0, 1].text(fc - c0 + rad, fr - r0, f"{fd['score']:.2f}", color="cyan", fontsize=9)
aspect = dz / px
# Coronal: the slices that changed, 20 mm more on each side, superior at the top.
moved = np.nonzero(per_slice > 0.02 * per_slice.max())[0]
k0 = max(0, int(moved.min() - 20 / dz)); k1 = min(a.shape[0], int(moved.max() + 20 / dz) + 1)
axs[1, 0].imshow(lung(b[k0:k1, r_border, c0:c1])[::-1], cmap="gray", aspect=aspect)
axs[1, 0].set_title(f"coronal at that row, without ({(k1 - k0) * dz:.0f} mm high)")
axs[1, 1].imshow(lung(a[k0:k1, r_border, c0:c1])[::-1], cmap="gray", aspect=aspect)
axs[1, 1].set_title("coronal, with")
axs[1, 2].plot(np.arange(a.shape[0]) * dz, per_slice); axs[1, 2].set_xlabel("z from the first slice (mm)")
axs[1, 2].set_title("mean |change| per slice (HU)")
for ax in list(axs.flat)[:5]:
    ax.axis("off")
plt.tight_layout()
plt.savefig(out_png, dpi=70)
print("wrote", out_png, "slice", k)
