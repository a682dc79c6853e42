"""Shared helpers of the scripts that draw phantom slices next to real CT for docs/
(render_pathology.py, render_ground_glass.py): HU from pydicom, a series as a volume, the
real slices of ../shared/real-ct, the lung window, and findings drawn as circles."""
import glob
import json
import os

import numpy as np
import pydicom

HERE = os.path.dirname(os.path.abspath(__file__))
REAL_DIR = os.path.join(HERE, "..", "..", "shared", "real-ct")
WINDOW = dict(cmap="gray", vmin=-1350, vmax=150)   # lung window -600/1500


def parse_args(default_png):
    """PHANTOM_DIR [OUT_PNG] [--findings BEFORE_REPORTS AFTER_REPORTS] from sys.argv: the
    phantom folder, the picture's path (default docs/images/<default_png>) and the two
    report folders (or None)."""
    import sys
    args = sys.argv[1:]
    findings_dirs = None
    if "--findings" in args:
        i = args.index("--findings")
        findings_dirs = args[i + 1:i + 3]
        args = args[:i] + args[i + 3:]
    out_png = args[1] if len(args) > 1 else os.path.join(HERE, "..", "docs", "images", default_png)
    return args[0], out_png, findings_dirs


def take_option(args, name):
    """The value after `name` in the argument list `args`, both removed from it (None when
    absent)."""
    if name not in args:
        return None
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def hu(d):
    """A slice's HU, padding (outside the field of view) as air."""
    a = d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept)
    if "PixelPaddingValue" in d:
        a[d.pixel_array == d.PixelPaddingValue] = -1024
    return a


def load(series_dir):
    """HU volume with slices sorted feet to head (LPS z ascending), slice z, origin, pixel mm."""
    ds = [pydicom.dcmread(f) for f in glob.glob(os.path.join(series_dir, "*.dcm"))]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    z = np.array([float(d.ImagePositionPatient[2]) for d in ds])
    return np.stack([hu(d) for d in ds]), z, np.array(ds[0].ImagePositionPatient, float), float(ds[0].PixelSpacing[0])


def real(name):
    """HU of one real slice of ../shared/real-ct."""
    return hu(pydicom.dcmread(os.path.join(REAL_DIR, name)))


def show(a, image, title, aspect=1.0):
    a.imshow(image, aspect=aspect, **WINDOW)
    a.set_title(title, color="white", fontsize=10)


def show_crop(a, image, cx, cy, half_px, title):
    """`image` in the lung window, cropped to the square of half-width `half_px` pixels
    around column `cx`, row `cy`."""
    show(a, image, title)
    a.set_xlim(cx - half_px, cx + half_px)
    a.set_ylim(cy + half_px, cy - half_px)


def finish(fig, axes, title, out_png, dpi=60):
    """Axes off, `title` on top, written to `out_png` on black."""
    import matplotlib.pyplot as plt
    for a in axes.flat:
        a.axis("off")
    fig.suptitle(title, color="white")
    plt.tight_layout()
    plt.savefig(out_png, dpi=dpi, facecolor="black")
    print("wrote", out_png)


def findings_of(reports_dir, series_uid):
    """The findings of one series from a `triage detect` report folder ([] when none)."""
    for f in glob.glob(os.path.join(reports_dir, "**", "findings.json"), recursive=True):
        r = json.load(open(f))
        if r["study"]["series_instance_uid"] == series_uid:
            return r["findings"]
    return []


def draw_findings(a, found, slice_z, origin, pixel_mm, within_mm=10):
    """Circles for the findings centred within `within_mm` of the slice: yellow for score
    >= 0.5 (actionable), cyan below. Returns how many were drawn."""
    import matplotlib.pyplot as plt
    drawn = 0
    for f in found:
        x, y, fz = f["center_mm"]
        if abs(fz - slice_z) <= within_mm:
            a.add_patch(plt.Circle(((x - origin[0]) / pixel_mm, (y - origin[1]) / pixel_mm),
                                   f["diameter_mm"] / 2 / pixel_mm + 3, fill=False,
                                   color="yellow" if f["score"] >= 0.5 else "cyan", lw=1.2))
            drawn += 1
    return drawn


def findings_row(axes, image, slice_z, origin, pixel_mm, series_uid, findings_dirs):
    """A row of three panels: `image` (the slice at `slice_z`) with the findings of
    `series_uid` from the "before" and the "after" report folders, and a legend."""
    for a, label, folder in zip(axes, ["before", "after"], findings_dirs):
        found = findings_of(folder, series_uid)
        show(a, image, f"findings within 10 mm of the slice, {label}: "
             f"{sum(abs(f['center_mm'][2] - slice_z) <= 10 for f in found)} (of {len(found)} in the scan)")
        draw_findings(a, found, slice_z, origin, pixel_mm)
    axes[2].text(0.05, 0.5, "yellow: score >= 0.5 (actionable)\ncyan: score 0.05-0.5", color="white",
                 fontsize=12, transform=axes[2].transAxes)


def save(fig, title, out_png):
    import matplotlib.pyplot as plt
    fig.suptitle(f"{title}: real chest CT (TCIA COVID-19-NY-SBU, CC BY 4.0) vs phantom (lung window -600/1500)",
                 color="white")
    plt.tight_layout()
    plt.savefig(out_png, dpi=70, facecolor="black")
    print("wrote", out_png)
