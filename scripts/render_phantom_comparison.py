#!/usr/bin/env python3
"""Renders phantom slices next to real chest CT slices, lung window (-600/1500).

usage: scripts/render_phantom_comparison.py PHANTOM_SERIES_DIR [REAL_CT_DIR] [OUT_PNG]
  PHANTOM_SERIES_DIR  a DICOM series written by `triage phantom` (e.g. OUT/case-000)
  REAL_CT_DIR         default ../shared/real-ct
  OUT_PNG             default docs/images/phantom-vs-real.png

Top row: real scanner slices (axial, axial, coronal, sagittal). Middle row: the phantom
(axial at two levels, coronal and sagittal reformats through the volume). Bottom row:
same-scale close-ups of one lung (real | phantom) to compare vessel density and texture.
Needs numpy, matplotlib, pydicom (pip install numpy matplotlib pydicom).
"""
import os, sys, glob
import numpy as np
import pydicom
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

series_dir = sys.argv[1]
real_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "real-ct")
out_png = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "docs", "images", "phantom-vs-real.png")

def hu(ds):
    a = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    if "PixelPaddingValue" in ds:
        a[ds.pixel_array == ds.PixelPaddingValue] = -1024
    return a

def window(a, center=-600.0, width=1500.0):
    return np.clip((a - (center - width / 2)) / width, 0, 1)

# Phantom volume, slices sorted along the normal (as any reader must).
files = [pydicom.dcmread(f) for f in glob.glob(os.path.join(series_dir, "*.dcm"))]
iop = np.array(files[0].ImageOrientationPatient, float)
normal = np.cross(iop[:3], iop[3:])
files.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
vol = np.stack([hu(d) for d in files])               # z (inferior -> superior), y, x
px = float(files[0].PixelSpacing[0])
dz = abs(float(np.dot(normal, np.array(files[1].ImagePositionPatient, float) - np.array(files[0].ImagePositionPatient, float))))
n = vol.shape[0]

def real(name):
    return hu(pydicom.dcmread(os.path.join(real_dir, name)))

real_axial_1 = real("A002304_axial_19001231-076.dcm")
real_axial_2 = real("A067967_axial_19001231-270.dcm")
real_cor = real("A002304_coronal_19001231-076.dcm")
real_sag = real("A002304_sagittal_19010112-134.dcm")

# Phantom: axial at the hilum and lower, coronal through the hila, sagittal through the right lung.
lung = (vol > -950) & (vol < -600)
per_slice = lung.reshape(n, -1).sum(1)
k_hilum = int(np.argmax(per_slice[: int(n * 0.8)] * (np.arange(min(n, int(n * 0.8))) > n * 0.45)))
k_low = max(0, k_hilum - int(60 / dz))
rows_with_lung = lung[k_hilum].sum(1)
y_mid = int(np.average(np.arange(vol.shape[1]), weights=rows_with_lung + 1e-6))
cols_with_lung = lung[k_hilum].sum(0)
x_right = int(np.argmax(cols_with_lung[: vol.shape[2] // 2]))

fig, axes = plt.subplots(3, 4, figsize=(20, 15.5), facecolor="black")
def show(ax, img, title, aspect=1.0):
    ax.imshow(window(img), cmap="gray", aspect=aspect, interpolation="lanczos")
    ax.set_title(title, color="white", fontsize=12)
    ax.axis("off")

show(axes[0, 0], real_axial_1, "REAL axial (GE, 0.83 mm)")
show(axes[0, 1], real_axial_2, "REAL axial, lung bases (Toshiba)")
show(axes[0, 2], real_cor, "REAL coronal reformat")
show(axes[0, 3], real_sag, "REAL sagittal reformat")
show(axes[1, 0], vol[k_hilum], f"PHANTOM axial, hilum (z index {k_hilum})")
show(axes[1, 1], vol[k_low], f"PHANTOM axial, lower lobes (z index {k_low})")
show(axes[1, 2], vol[::-1, y_mid, :], f"PHANTOM coronal reformat ({dz:g} mm slices)", aspect=dz / px)
show(axes[1, 3], vol[::-1, :, x_right], "PHANTOM sagittal reformat (right lung)", aspect=dz / px)
# Close-ups at the same physical scale (about 110 mm square).
def crop_mm(img, spacing, cy, cx, mm=110):
    h = int(mm / spacing / 2)
    return img[max(0, cy - h): cy + h, max(0, cx - h): cx + h]
ds_r = pydicom.dcmread(os.path.join(real_dir, "A002304_axial_19001231-076.dcm"))
sr = float(ds_r.PixelSpacing[0])
show(axes[2, 0], crop_mm(real_axial_1, sr, 250, 150), "REAL close-up, right lung (110 mm)")
ds_r2 = pydicom.dcmread(os.path.join(real_dir, "A067967_axial_19001231-270.dcm"))
show(axes[2, 1], crop_mm(real_axial_2, float(ds_r2.PixelSpacing[0]), 330, 380), "REAL close-up, left base (110 mm)")
lung_rows, lung_cols = np.nonzero(lung[k_hilum])
cy = int(np.median(lung_rows)); cx = int(np.percentile(lung_cols, 20))
show(axes[2, 2], crop_mm(vol[k_hilum], px, cy, cx), "PHANTOM close-up, right lung (110 mm)")
lung_rows, lung_cols = np.nonzero(lung[k_low])
show(axes[2, 3], crop_mm(vol[k_low], px, int(np.median(lung_rows)), int(np.percentile(lung_cols, 80))),
     "PHANTOM close-up, left base (110 mm)")
fig.suptitle("Real chest CT (TCIA COVID-19-NY-SBU, CC BY 4.0) vs synthetic phantom - lung window -600/1500",
             color="white", fontsize=14)
plt.tight_layout(rect=(0, 0, 1, 0.97))
os.makedirs(os.path.dirname(out_png), exist_ok=True)
plt.savefig(out_png, dpi=60, facecolor="black")
print("wrote", out_png)
