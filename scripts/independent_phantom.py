#!/usr/bin/env python3
"""A second, deliberately different chest-CT phantom, written in numpy without any of the
project's generator (Sources/Validation/Phantoms), to see how the detector does on scans it
was not trained on: the issue warns that the detector will be scored on scans made
independently of our generator.

    python3 scripts/independent_phantom.py OUT_DIR [--cases 8] [--seed 1] [--slices 220]
    triage detect OUT_DIR --out REPORTS          # then
    triage evaluate --truth OUT_DIR/truth.json REPORTS --out SUMMARY_DIR

What it draws, all analytic and simple on purpose (it is a check of robustness, not a second
realistic generator): an elliptic trunk with a fat layer, ribs as bands of bone, a vertebra,
two lungs whose cross-sections grow from a rounded apex to a domed base, a heart and aorta,
the trachea and main bronchi, straight-segment vessel trees that branch in two from each
hilum and taper by 0.72 per generation down to 0.35 mm, lung texture (smooth noise and a
posterior density gradient), a Gaussian point spread and correlated noise. Nodules: 3.5 to
26 mm, spherical or lobulated, solid (+40 HU), ground-glass (-620 HU) or part-solid (a solid
core of half the radius), isolated, against a vessel or against the pleura; a quarter of the
cases clean. Every choice differs from the project's generator in detail: other lung
shapes, HU levels, vessel model, point spread, noise and DICOM storage (unsigned pixels,
Rescale Intercept -1024, slices written from head to foot, named by a random UID).

It writes OUT_DIR/case-NNN/*.dcm (CT Image Storage, explicit VR little endian) and
OUT_DIR/truth.json in the project's truth schema (triage.truth.v1; docs/evaluation.md), so
`triage evaluate` scores the detector on it. Deterministic for a given seed. Use seeds of
your own: these scans are for measuring, never for training or tuning.
Needs numpy, scipy and pydicom (pip install pydicom).
"""
import argparse
import json
import math
import os

import numpy as np
from scipy.ndimage import gaussian_filter

PIXEL_MM = 0.7
COLUMNS = ROWS = 512
X0 = Y0 = -(COLUMNS - 1) * PIXEL_MM / 2     # image centred on the patient's axis
Z_TOP = 0.0                                 # first slice (head end), mm
LUNG_HU, SOFT_HU, FAT_HU, BONE_HU, BLOOD_HU = -865.0, 45.0, -95.0, 650.0, 40.0
NODULE_SOLID_HU, NODULE_GGO_HU = 40.0, -620.0


class Lung:
    """One lung: per height z an ellipse of centre (cx, cy) and semi-axes that grow from a
    rounded apex at z_apex to full size 70 mm lower; below, a base domed upwards in the middle."""

    def __init__(self, cx, cy, a, b, z_apex, z_base_edge, dome_mm):
        self.cx, self.cy, self.a, self.b = cx, cy, a, b
        self.z_apex, self.z_base_edge, self.dome = z_apex, z_base_edge, dome_mm

    def inside(self, x, y, z):
        grow = np.sqrt(np.clip((self.z_apex - z) / 70.0, 0.0, 1.0))
        grow = np.maximum(grow, 1e-3)
        q = ((x - self.cx) / (self.a * grow)) ** 2 + ((y - self.cy) / (self.b * grow)) ** 2
        q_full = ((x - self.cx) / self.a) ** 2 + ((y - self.cy) / self.b) ** 2
        z_base = self.z_base_edge + self.dome * np.clip(1.0 - q_full, 0.0, 1.0)
        return (q <= 1.0) & (z < self.z_apex) & (z > z_base)


class Chest:
    def __init__(self, rng, slices, slice_mm):
        self.rng = rng
        self.slices, self.slice_mm = slices, slice_mm
        s = rng.uniform(0.92, 1.06)                       # body size
        self.body_a, self.body_b, self.body_cy = 165 * s, 118 * s, 12.0
        self.lungs = [Lung(-72 * s, 4, 58 * s, 82 * s, -18, -250 + rng.uniform(-8, 8), 38),
                      Lung(74 * s, 8, 54 * s, 80 * s, -20, -258 + rng.uniform(-8, 8), 34)]
        self.heart = (np.array([18.0, -22.0, -185.0]), np.array([62.0, 52.0, 48.0]) * s)
        self.carina = np.array([0.0, 8.0, -105.0])
        self.hila = [np.array([-48.0, 12.0, -128.0]), np.array([48.0, 16.0, -134.0])]

    def z_of(self, k):
        return Z_TOP - k * self.slice_mm

    def in_lung(self, x, y, z):
        inside = self.lungs[0].inside(x, y, z) | self.lungs[1].inside(x, y, z)
        c, r = self.heart
        heart = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1
        return inside & ~heart & (np.abs(x) > 16)

    def background(self):
        """HU volume [slice, row, column] of everything but vessels, airways and nodules."""
        x = X0 + np.arange(COLUMNS) * PIXEL_MM
        y = Y0 + np.arange(ROWS) * PIXEL_MM
        X, Y = np.meshgrid(x, y)
        vol = np.empty((self.slices, ROWS, COLUMNS), np.float32)
        lung = np.zeros(vol.shape, bool)
        texture = gaussian_filter(self.rng.normal(0, 1, vol.shape).astype(np.float32), 2.5) * 90
        for k in range(self.slices):
            z = self.z_of(k)
            q = ((X) / self.body_a) ** 2 + ((Y - self.body_cy) / self.body_b) ** 2
            img = np.full(X.shape, -1000.0, np.float32)
            img[q <= 1] = FAT_HU
            inner = ((X) / (self.body_a - 14)) ** 2 + ((Y - self.body_cy) / (self.body_b - 12)) ** 2 <= 1
            img[inner] = SOFT_HU
            # ribs: bands of bone just inside the muscle, every 24 mm of height, 7 mm thick
            ring = inner & (((X) / (self.body_a - 24)) ** 2 + ((Y - self.body_cy) / (self.body_b - 20)) ** 2 > 1)
            if (z + 1000) % 24 < 7:
                img[ring & (Y > -60)] = BONE_HU
            # vertebra with cortex and canal
            v = np.hypot(X, Y - 78)
            img[v <= 17] = 260
            img[(v > 14.5) & (v <= 17)] = BONE_HU
            img[np.hypot(X, Y - 104) <= 8] = 15
            # descending aorta, and the ascending aorta above the heart
            img[np.hypot(X - 22, Y - 52) <= 13] = BLOOD_HU
            if z > -160:
                img[np.hypot(X - 6, Y + 18) <= 15] = BLOOD_HU
            inside = self.in_lung(X, Y, z)
            gradient = 45.0 * np.clip((Y + 80) / 180.0, 0, 1)   # dependent lung is denser
            img[inside] = LUNG_HU + gradient[inside] + texture[k][inside]
            vol[k] = img
            lung[k] = inside
        return vol, lung

    def index_of(self, p):
        """(slice, row, column) float indices of an LPS point."""
        return np.array([(Z_TOP - p[2]) / self.slice_mm, (p[1] - Y0) / PIXEL_MM, (p[0] - X0) / PIXEL_MM])


def paint_segment(vol, mask, chest, a, b, radius, hu, lumen_hu=None, wall_mm=0.0):
    """A cylinder with rounded ends from a to b (LPS mm), partial volume at its edge. With
    lumen_hu, a tube: wall of wall_mm, lumen inside. `mask`: only these voxels (None: all)."""
    lo = np.minimum(a, b) - radius - 1.5
    hi = np.maximum(a, b) + radius + 1.5
    i0 = np.floor(chest.index_of(np.array([lo[0], lo[1], hi[2]]))).astype(int)
    i1 = np.ceil(chest.index_of(np.array([hi[0], hi[1], lo[2]]))).astype(int) + 1
    i0 = np.maximum(i0, 0)
    i1 = np.minimum(i1, vol.shape)
    if np.any(i1 <= i0):
        return
    ks, rs, cs = (np.arange(i0[d], i1[d]) for d in range(3))
    Z = (Z_TOP - ks * chest.slice_mm)[:, None, None]
    Y = (Y0 + rs * PIXEL_MM)[None, :, None]
    X = (X0 + cs * PIXEL_MM)[None, None, :]
    ab = b - a
    t = ((X - a[0]) * ab[0] + (Y - a[1]) * ab[1] + (Z - a[2]) * ab[2]) / max(float(ab @ ab), 1e-9)
    t = np.clip(t, 0, 1)
    d = np.sqrt((X - a[0] - t * ab[0]) ** 2 + (Y - a[1] - t * ab[1]) ** 2 + (Z - a[2] - t * ab[2]) ** 2)
    box = vol[i0[0]:i1[0], i0[1]:i1[1], i0[2]:i1[2]]
    frac = np.clip(0.5 + (radius - d) / PIXEL_MM, 0, 1)
    if mask is not None:
        frac = frac * mask[i0[0]:i1[0], i0[1]:i1[1], i0[2]:i1[2]]
    if lumen_hu is None:
        box += (hu - box) * np.where(box < hu, frac, 0)
    else:
        box += (hu - box) * frac
        inner = np.clip(0.5 + (radius - wall_mm - d) / PIXEL_MM, 0, 1)
        box += (lumen_hu - box) * inner


def grow_vessels(chest, rng):
    """Straight segments branching in two from each hilum. A branch that would leave the lung
    is turned towards the lung's core (up to four tries), then dropped; branching stops below
    0.35 mm. Returns (a, b, radius) per segment."""
    segments = []
    for side, hilum in enumerate(chest.hila):
        lung = chest.lungs[side]
        core = np.array([lung.cx, lung.cy, -135.0])
        stack = []
        for _ in range(8):
            target = np.array([lung.cx + rng.uniform(-0.7, 0.7) * lung.a, lung.cy + rng.uniform(-0.8, 0.8) * lung.b,
                               rng.uniform(-230, -40)])
            d = target - hilum
            stack.append((hilum, d / np.linalg.norm(d), 4.5, 0))
        while stack:
            start, direction, radius, generation = stack.pop()
            length = rng.uniform(10, 22) * (0.85 ** generation) + 2.5 * radius
            end = None
            for _ in range(4):
                candidate = start + direction * length
                if chest.in_lung(*candidate):
                    end = candidate
                    break
                inward = core - start
                inward /= np.linalg.norm(inward)
                direction = direction + 0.7 * inward + 0.2 * rng.normal(size=3)
                direction /= np.linalg.norm(direction)
            if end is None:
                continue
            segments.append((start, end, radius))
            child = radius * 0.72
            if child < 0.35:
                continue
            for sign in (-1, 1):
                # turn by 20-40 degrees about a random axis perpendicular to the branch
                axis = np.cross(direction, rng.normal(size=3))
                axis /= np.linalg.norm(axis)
                angle = math.radians(rng.uniform(20, 40)) * sign
                turned = direction * math.cos(angle) + np.cross(axis, direction) * math.sin(angle)
                stack.append((end, turned / np.linalg.norm(turned), child, generation + 1))
    return segments


def lobulated_ball(vol, chest, center, radius, hu, lobulated, rng):
    """A ball (or a lobulated one: radius modulated by low-order harmonics, +-12 %) with a
    partial-volume edge; only raises HU. Returns its volume in mm3 (voxel count x voxel size)."""
    pad = radius * 1.2 + 2
    i0 = np.maximum(np.floor(chest.index_of(center + np.array([-pad, -pad, pad]))).astype(int), 0)
    i1 = np.minimum(np.ceil(chest.index_of(center + np.array([pad, pad, -pad]))).astype(int) + 1, vol.shape)
    ks, rs, cs = (np.arange(i0[d], i1[d]) for d in range(3))
    Z = (Z_TOP - ks * chest.slice_mm)[:, None, None] - center[2]
    Y = (Y0 + rs * PIXEL_MM)[None, :, None] - center[1]
    X = (X0 + cs * PIXEL_MM)[None, None, :] - center[0]
    d = np.sqrt(X ** 2 + Y ** 2 + Z ** 2)
    r = np.full(d.shape, radius)
    if lobulated:
        theta = np.arccos(np.clip(Z / np.maximum(d, 1e-6), -1, 1))
        phi = np.arctan2(Y, X)
        p1, p2 = rng.uniform(0, 2 * np.pi, 2)
        r = radius * (1 + 0.12 * np.sin(3 * phi + p1) * np.sin(2 * theta) + 0.06 * np.cos(4 * theta + p2))
    frac = np.clip(0.5 + (r - d) / PIXEL_MM, 0, 1)
    box = vol[i0[0]:i1[0], i0[1]:i1[1], i0[2]:i1[2]]
    box += (hu - box) * np.where(box < hu, frac, 0)
    return float((frac > 0.5).sum() * PIXEL_MM * PIXEL_MM * chest.slice_mm)


def propose_centre(chest, segments, rng, location, r):
    """A candidate centre (LPS mm) for a nodule of radius r at `location`, or None."""
    if location == "juxtavascular":
        # beside a vessel 0.6-3.5 mm in radius, touching it
        a, b, vessel_r = segments[rng.integers(len(segments))]
        if not 0.6 <= vessel_r <= 3.5:
            return None
        p = a + (b - a) * rng.uniform(0.2, 0.8)
        side = np.cross(b - a, rng.normal(size=3))
        side /= np.linalg.norm(side)
        return p + side * (r + vessel_r * 0.3)
    lung = chest.lungs[rng.integers(2)]
    c = np.array([lung.cx + rng.uniform(-0.8, 0.8) * lung.a, lung.cy + rng.uniform(-0.8, 0.8) * lung.b,
                  rng.uniform(-235, -45)])
    if location == "juxtapleural":
        # walk outwards in-plane (costal or mediastinal side) until the lung ends, then back by 0.8 r
        out = np.array([c[0] - lung.cx, c[1] - lung.cy, 0.0])
        out /= max(np.linalg.norm(out), 1e-6)
        for _ in range(200):
            if not chest.in_lung(*(c + out)):
                break
            c = c + out
        c = c - out * (0.8 * r)
    return c


def place_nodules(chest, lung_mask, segments, rng, count):
    """Centres, diameters, types and locations; none within 2 mm of another nodule."""
    nodules = []
    for _ in range(count):
        # Size, type and location first; then up to 200 tries to place that nodule, so that
        # the locations that are hard to place (against a vessel) are not crowded out.
        diameter = float(np.exp(rng.uniform(np.log(3.5), np.log(18)))) if rng.random() < 0.85 else float(rng.uniform(18, 26))
        r = diameter / 2
        kind = str(rng.choice(["solid", "solid", "part-solid", "ground-glass"]))
        location = str(rng.choice(["isolated", "juxtavascular", "juxtapleural"]))
        for _ in range(200):
            c = propose_centre(chest, segments, rng, location, r)
            if c is None:
                continue
            idx = np.round(chest.index_of(c)).astype(int)
            if np.any(idx < 0) or np.any(idx >= lung_mask.shape) or not lung_mask[tuple(idx)]:
                continue
            if location != "juxtapleural":
                # the whole ball inside the lung
                probe = [c + r * np.array(v) for v in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))]
                if not all(chest.in_lung(*q) for q in probe):
                    continue
            if any(np.linalg.norm(c - n["center"]) < r + n["diameter_mm"] / 2 + 2 for n in nodules):
                continue
            nodules.append({"center": c, "diameter_mm": diameter, "type": kind, "location": location,
                            "shape": "lobulated" if rng.random() < 0.3 else "spherical"})
            break
    return nodules


def render_case(rng, slices, slice_mm, clean):
    chest = Chest(rng, slices, slice_mm)
    vol, lung = chest.background()
    # airways: trachea to the carina, main bronchi to the hila (wall 2 mm, air inside)
    top = np.array([0.0, -4.0, Z_TOP + 5])
    paint_segment(vol, None, chest, top, chest.carina, 9.0, SOFT_HU, lumen_hu=-1000.0, wall_mm=2.0)
    for hilum in chest.hila:
        paint_segment(vol, None, chest, chest.carina, hilum, 6.0, SOFT_HU, lumen_hu=-1000.0, wall_mm=1.8)
    segments = grow_vessels(chest, rng)
    for a, b, radius in segments:
        paint_segment(vol, lung, chest, a, b, radius, BLOOD_HU)
    count = 0 if clean else int(rng.integers(2, 9))
    nodules = place_nodules(chest, lung, segments, rng, count)
    truth = []
    for n, nod in enumerate(nodules):
        r = nod["diameter_mm"] / 2
        lobulated = nod["shape"] == "lobulated"
        if nod["type"] == "solid":
            volume = lobulated_ball(vol, chest, nod["center"], r, NODULE_SOLID_HU, lobulated, rng)
        else:
            volume = lobulated_ball(vol, chest, nod["center"], r, NODULE_GGO_HU, lobulated, rng)
            if nod["type"] == "part-solid":
                lobulated_ball(vol, chest, nod["center"], r * 0.5, NODULE_SOLID_HU, False, rng)
        truth.append({"id": f"n{n + 1}", "center_mm": [round(float(v), 3) for v in nod["center"]],
                      "diameter_mm": round(nod["diameter_mm"], 3), "volume_mm3": round(volume, 1),
                      "type": nod["type"], "location": nod["location"], "shape": nod["shape"]})
    # scanner: point spread (Gaussian, 0.55 mm in-plane, 0.65 of the slice spacing along z),
    # then noise correlated over about a pixel, 16 HU standard deviation
    vol = gaussian_filter(vol, (0.65, 0.55 / PIXEL_MM, 0.55 / PIXEL_MM))
    noise = gaussian_filter(rng.normal(0, 1, vol.shape).astype(np.float32), (0.4, 0.8, 0.8))
    vol += noise * (16.0 / max(float(noise.std()), 1e-6))
    return chest, vol, truth


def write_dicom(folder, chest, vol, uids, case_index):
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    os.makedirs(folder, exist_ok=True)
    stored = np.clip(np.round(vol) + 1024, 0, 4095).astype(np.uint16)
    for k in range(vol.shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        sop = generate_uid(entropy_srcs=[uids["series"], str(k)])
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = sop
        ds.Modality = "CT"
        ds.PatientID = f"IND-{case_index:03d}"
        ds.PatientName = f"Independent^{case_index:03d}"
        ds.StudyInstanceUID = uids["study"]
        ds.SeriesInstanceUID = uids["series"]
        ds.FrameOfReferenceUID = uids["frame"]
        ds.StudyDescription = "independent chest phantom"
        ds.SeriesNumber = 2
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [round(X0, 4), round(Y0, 4), round(chest.z_of(k), 4)]
        ds.SliceLocation = round(chest.z_of(k), 4)
        ds.PixelSpacing = [PIXEL_MM, PIXEL_MM]
        ds.SliceThickness = chest.slice_mm
        ds.Rows, ds.Columns = ROWS, COLUMNS
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = -600, 1500
        ds.PixelData = stored[k].tobytes()
        name = generate_uid(entropy_srcs=[sop, "file"]).split(".")[-1][:16]
        ds.save_as(os.path.join(folder, f"{name}.dcm"), enforce_file_format=True)


def draw(vol, chest, truth, name, path):
    """Lung window (-600/1500): axial slices through up to three nodules (ringed), a coronal
    and a sagittal reformat through the first."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 5, figsize=(20, 4.6), facecolor="black")
    shown = truth[:3]
    for i in range(3):
        n = shown[i % len(shown)]
        k, r, c = np.round(chest.index_of(np.array(n["center_mm"]))).astype(int)
        ax[i].imshow(vol[k], cmap="gray", vmin=-1350, vmax=150)
        ax[i].add_patch(matplotlib.patches.Circle((c, r), n["diameter_mm"] / PIXEL_MM / 2 + 8, fill=False, color="red"))
        ax[i].set_title(f"axial {k}: {n['diameter_mm']:.1f} mm {n['type']}, {n['location']}", color="white", fontsize=9)
    k, r, c = np.round(chest.index_of(np.array(shown[0]["center_mm"]))).astype(int)
    ax[3].imshow(vol[:, r, :], cmap="gray", vmin=-1350, vmax=150, aspect=chest.slice_mm / PIXEL_MM)
    ax[3].set_title("coronal", color="white", fontsize=9)
    ax[4].imshow(vol[:, :, c], cmap="gray", vmin=-1350, vmax=150, aspect=chest.slice_mm / PIXEL_MM)
    ax[4].set_title("sagittal", color="white", fontsize=9)
    for a in ax:
        a.axis("off")
    fig.suptitle(f"scripts/independent_phantom.py, {name} (lung window -600/1500)", color="white")
    plt.tight_layout()
    plt.savefig(path, dpi=70, facecolor="black")
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--cases", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--slices", type=int, default=220)
    ap.add_argument("--slice-mm", type=float, default=1.25)
    ap.add_argument("--picture", help="also draw the first case with nodules (lung window) to this PNG")
    a = ap.parse_args()
    from pydicom.uid import generate_uid
    rng = np.random.default_rng(a.seed)
    cases = []
    clean = set(rng.choice(a.cases, size=max(1, a.cases // 4), replace=False).tolist())
    for i in range(a.cases):
        case_rng = np.random.default_rng([a.seed, i])
        chest, vol, truth = render_case(case_rng, a.slices, a.slice_mm, i in clean)
        uids = {key: generate_uid(entropy_srcs=[str(a.seed), str(i), key]) for key in ("study", "series", "frame")}
        folder = f"case-{i:03d}"
        write_dicom(os.path.join(a.out, folder), chest, vol, uids, i)
        cases.append({"case_id": folder, "folder": folder, "format": "dicom", "patient_id": f"IND-{i:03d}",
                      "study_instance_uid": uids["study"], "series_instance_uid": uids["series"],
                      "nodules": truth})
        print(f"{folder}: {len(truth)} nodules", flush=True)
        if a.picture and truth and not os.path.exists(a.picture):
            draw(vol, chest, truth, folder, a.picture)
    doc = {"schema": "triage.truth.v1", "seed": a.seed, "generator": "scripts/independent_phantom.py", "cases": cases}
    tmp = os.path.join(a.out, "truth.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, os.path.join(a.out, "truth.json"))


if __name__ == "__main__":
    main()
