#!/usr/bin/env python3
"""How densely vessels fill the lungs, real slices against phantoms, by depth from the pleura.

usage: scripts/compare_lung_vessels.py [--real DIR] [--picture OUT_PNG] LABEL=SERIES_DIR[,SERIES_DIR...] ...
  --real DIR       real axial slices (default ../shared/real-ct; files with "axial" in the name)
  --picture PNG    also draw same-scale close-ups of a right lung: the real 2.5 and 1.25 mm
                   slices, then the first series of each LABEL at 50 % and 65 % of its height
  LABEL=DIRS       phantom DICOM series written by `triage phantom` (e.g.
                   d1=/work/dev/d1300/case-000,/work/dev/d1300/case-001)

Per axial slice (real: each file; phantom: the slices at 35, 50 and 65 % of the series'
height), the lungs are the air (< -400 HU) not connected to the image border, parts of at
least 15 cm2, closed with a 6 mm disc and filled, so vessels and the hila are inside. In bands
of depth from the lung's edge (0-5, 5-10, 10-20, 20-40 mm, Euclidean distance in the slice):
  vessel %   the fraction of the band above -500 HU
  maxima     local maxima above -500 HU of the slice smoothed with a 0.7 mm Gaussian, at
             least 3 mm apart, per 10 cm2: vessels cut across or running in the slice, the
             dots a nodule detector has to tell from nodules
and, over the lung more than 5 mm deep,
  lines      vessel pieces (connected pixels above -500 HU, under 1 cm2) at least 6 mm long
             and 3 times as long as wide (second moments) per 10 cm2: vessels running in
             the slice, which real thin slices show as long tapering lines
The table gives, per label, the median over its slices. The real slices in ../shared/real-ct
are of COVID-19 patients: their ground glass raises the vessel % (it is above -500 HU in
places), much less the maxima, so compare mainly the maxima. Needs numpy, scipy, pydicom,
matplotlib.
"""
import argparse, glob, os
import numpy as np
import pydicom
from scipy import ndimage as ndi

BANDS_MM = [(0, 5), (5, 10), (10, 20), (20, 40)]
VESSEL_HU = -500.0


def hounsfield(ds):
    a = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    if "PixelPaddingValue" in ds:
        a[ds.pixel_array == ds.PixelPaddingValue] = -1024
    return a


def lung_mask(image, pixel_mm):
    air = image < -400
    labels, _ = ndi.label(air)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inside = air & ~np.isin(labels, border)
    parts, count = ndi.label(inside)
    areas = ndi.sum(inside, parts, range(1, count + 1)) * pixel_mm * pixel_mm
    lungs = np.isin(parts, [i + 1 for i, a in enumerate(areas) if a >= 1500])
    radius = max(1, int(round(6 / pixel_mm)))
    y, x = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    return ndi.binary_fill_holes(ndi.binary_closing(lungs, structure=x * x + y * y <= radius * radius))


def band_figures(image, pixel_mm):
    """([(vessel %, maxima per 10 cm2) per band, None for a band with under 2 cm2 of lung],
    lines per 10 cm2 of lung more than 5 mm deep)."""
    lungs = lung_mask(image, pixel_mm)
    depth = ndi.distance_transform_edt(lungs) * pixel_mm
    vessel = lungs & (image > VESSEL_HU)
    smooth = ndi.gaussian_filter(image, 0.7 / pixel_mm)
    size = max(3, int(round(3 / pixel_mm)))
    maxima = (smooth == ndi.maximum_filter(smooth, size=size)) & (smooth > VESSEL_HU) & lungs
    out = []
    for lo, hi in BANDS_MM:
        band = lungs & (depth > lo) & (depth <= hi)
        area_cm2 = band.sum() * pixel_mm * pixel_mm / 100
        if area_cm2 < 2:
            out.append(None)
            continue
        out.append((100 * (vessel & band).sum() / band.sum(), 10 * (maxima & band).sum() / area_cm2))
    deep = lungs & (depth > 5)
    pieces, count = ndi.label(vessel & deep)
    lines = 0
    for i, window in enumerate(ndi.find_objects(pieces)):
        ys, xs = np.nonzero(pieces[window] == i + 1)
        if len(ys) < 3 or len(ys) * pixel_mm * pixel_mm >= 100:
            continue
        eigen = np.linalg.eigvalsh(np.cov(np.vstack([xs, ys]).astype(float)))
        length_mm = np.sqrt(12 * max(eigen[1], 0)) * pixel_mm     # a uniform bar: variance length^2 / 12
        width_mm = np.sqrt(12 * max(eigen[0], 0)) * pixel_mm
        if length_mm >= 6 and length_mm >= 3 * max(width_mm, pixel_mm):
            lines += 1
    deep_cm2 = deep.sum() * pixel_mm * pixel_mm / 100
    return out, (10 * lines / deep_cm2 if deep_cm2 >= 2 else None)


def series_slices(folder):
    files = [pydicom.dcmread(f) for f in glob.glob(os.path.join(folder, "*.dcm"))]
    files.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    return files


def right_lung_closeup(image, pixel_mm, size_mm=110):
    lungs = lung_mask(image, pixel_mm)
    lungs[:, image.shape[1] // 2:] = False      # image left = patient right
    ys, xs = np.nonzero(lungs)
    cy, cx, h = int(ys.mean()), int(xs.mean()), int(size_mm / pixel_mm / 2)
    return image[max(0, cy - h):cy + h, max(0, cx - h):cx + h]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "real-ct"))
    parser.add_argument("--picture")
    parser.add_argument("series", nargs="+", help="LABEL=DIR[,DIR...]")
    args = parser.parse_args()

    rows = []   # (label, [per-slice band figures])
    real_files = sorted(glob.glob(os.path.join(args.real, "*axial*.dcm")))
    real = [pydicom.dcmread(f) for f in real_files]
    rows.append(("real (%d axial slices)" % len(real),
                 [band_figures(hounsfield(d), float(d.PixelSpacing[0])) for d in real]))
    groups = []
    for item in args.series:
        label, _, dirs = item.partition("=")
        if not dirs:
            parser.error(f"{item}: expected LABEL=DIR[,DIR...]")
        figures, first = [], None
        for folder in dirs.split(","):
            slices = series_slices(folder)
            if not slices:
                parser.error(f"{folder}: no DICOM files")
            first = first or slices
            for fraction in (0.35, 0.5, 0.65):
                d = slices[int(len(slices) * fraction)]
                figures.append(band_figures(hounsfield(d), float(d.PixelSpacing[0])))
        rows.append((f"{label} ({len(figures)} slices)", figures))
        groups.append((label, first))

    header = "".join(f" | {lo}-{hi} mm" for lo, hi in BANDS_MM)
    print("median vessel % / maxima per 10 cm2, by depth from the pleura; lines per 10 cm2 deeper than 5 mm")
    print(f"| series{header} | lines |")
    print("|---" * (len(BANDS_MM) + 2) + "|")
    for label, per_slice in rows:
        figures = [f for f, _ in per_slice]
        lines = [l for _, l in per_slice if l is not None]
        cells = []
        for b in range(len(BANDS_MM)):
            values = [f[b] for f in figures if f[b] is not None]
            if not values:
                cells.append("-")
                continue
            cells.append("%.1f %% / %.1f" % (np.median([v[0] for v in values]), np.median([v[1] for v in values])))
        cells.append("%.1f" % np.median(lines) if lines else "-")
        print(f"| {label} | " + " | ".join(cells) + " |")

    if args.picture:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        panels = []
        for d in real:
            if float(d.PixelSpacing[0]) < 0.9 and "GE" in str(d.Manufacturer):
                panels.append((f"real, {float(d.SliceThickness):.2f} mm slice (GE)",
                               right_lung_closeup(hounsfield(d), float(d.PixelSpacing[0]))))
        for label, slices in groups:
            for fraction in (0.5, 0.65):
                d = slices[int(len(slices) * fraction)]
                panels.append((f"{label}, {float(d.SliceThickness):.2f} mm, {int(fraction * 100)} % height",
                               right_lung_closeup(hounsfield(d), float(d.PixelSpacing[0]))))
        columns = 2
        rows_n = (len(panels) + 1) // columns
        fig, axes = plt.subplots(rows_n, columns, figsize=(4.2 * columns, 4.4 * rows_n), squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for ax, (title, image) in zip(axes.flat, panels):
            ax.imshow(np.clip((image + 1350) / 1500, 0, 1), cmap="gray")
            ax.set_title(title, fontsize=9)
        fig.suptitle("Right lung, 110 mm close-ups, lung window -600/1500", fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.985))
        fig.savefig(args.picture, dpi=72)
        # Every panel is grey: one channel instead of four (about 60 % of the size).
        from PIL import Image
        Image.open(args.picture).convert("L").save(args.picture, optimize=True)
        print(f"wrote {args.picture}")


if __name__ == "__main__":
    main()
