#!/usr/bin/env python3
"""Renders a phantom with emphysema next to the same phantom without, lung window (-600/1500).

usage: scripts/render_emphysema.py HEALTHY_SERIES_DIR EMPHYSEMA_SERIES_DIR [OUT_PNG]

Make the two series from the same seed, e.g.
    triage phantom /tmp/healthy --cases 1 --seed 1300 --max-nodules 8
    triage phantom /tmp/emph    --cases 1 --seed 1300 --max-nodules 8 --emphysema-fraction 1
    scripts/render_emphysema.py /tmp/healthy/case-000 /tmp/emph/case-000
Rows: an upper-zone and a lower-zone axial slice (80 % and 25 % of the way up the lungs);
columns: healthy | emphysema | emphysema with its pixels below -950 HU in red. Each title gives the slice's LAA-950 (the percentage of lung
pixels below -950 HU, the usual CT index of emphysema), computed here with pydicom and
scipy on the stored pixels, independently of the generator. Default OUT_PNG:
docs/images/phantom-emphysema.png. Needs numpy, scipy, matplotlib, pydicom.
"""
import glob
import os
import sys

import matplotlib
import numpy as np
import pydicom
from scipy import ndimage as ndi

matplotlib.use("Agg")
import matplotlib.pyplot as plt

healthy, emphysema = sys.argv[1], sys.argv[2]
out_png = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
    os.path.dirname(__file__), "..", "docs", "images", "phantom-emphysema.png")


def load(series_dir):
    """Slices sorted from feet to head (LPS z ascending), as HU arrays."""
    files = glob.glob(os.path.join(series_dir, "*.dcm"))
    ds = [pydicom.dcmread(f) for f in files]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    out = []
    for d in ds:
        a = d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept)
        if "PixelPaddingValue" in d:
            a[d.pixel_array == d.PixelPaddingValue] = -1024
        out.append(a)
    return np.stack(out)


def lungs(image):
    """Air below -400 HU not connected to the image border, holes filled (vessels inside)."""
    air = image < -400
    labels, n = ndi.label(air)
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    keep = [l for l in range(1, n + 1) if l not in border and (labels == l).sum() > 500]
    return ndi.binary_fill_holes(np.isin(labels, keep))


volumes = [load(healthy), load(emphysema)]
# Lung extent from the healthy volume (same anatomy in both).
has_lung = [lungs(s).sum() > 2000 for s in volumes[0]]
z = np.nonzero(has_lung)[0]
levels = [("upper zone", int(z[0] + 0.8 * (z[-1] - z[0]))), ("lower zone", int(z[0] + 0.25 * (z[-1] - z[0])))]
fig, axes = plt.subplots(2, 3, figsize=(18, 8.5))
for row, (name, k) in enumerate(levels):
    for col, (label, vol) in enumerate(zip(("healthy", "emphysema"), volumes)):
        image = vol[k]
        mask = lungs(image)
        laa = 100 * (image[mask] < -950).mean()
        ys, xs = np.nonzero(mask)
        crop = image[max(0, ys.min() - 10):ys.max() + 10, max(0, xs.min() - 10):xs.max() + 10]
        ax = axes[row, col]
        ax.imshow(crop, cmap="gray", vmin=-1350, vmax=150)
        ax.set_title(f"{label}, {name} (slice {k}): LAA-950 {laa:.1f} %", fontsize=11)
        ax.axis("off")
        if col == 1:
            # The low-attenuation areas themselves: lung pixels below -950 HU.
            rgb = np.repeat(((np.clip(crop, -1350, 150) + 1350) / 1500)[..., None], 3, axis=2)
            y0, x0 = max(0, ys.min() - 10), max(0, xs.min() - 10)
            low = (crop < -950) & mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]]
            rgb[low] = (0.9, 0.1, 0.1)
            axes[row, 2].imshow(rgb)
            axes[row, 2].set_title(f"emphysema, {name}: pixels below -950 HU in red", fontsize=11)
            axes[row, 2].axis("off")
plt.tight_layout()
plt.savefig(out_png, dpi=70)
print(f"wrote {out_png}")
