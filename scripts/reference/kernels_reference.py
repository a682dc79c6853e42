#!/usr/bin/env python3
"""Writes scipy.ndimage reference outputs for the Kernels tests.

Output: Tests/KernelsTests/Fixtures/kernels_reference.json (cases, shapes, parameters) and
kernels_reference.f32 (all arrays, little-endian float32, concatenated; offsets in floats).

Arrays are (z, y, x) = (slices, rows, columns) C-order, the same layout as `Volume.voxels`.
Run from the repository root:  python3 scripts/reference/kernels_reference.py
"""
import json
import os

import numpy as np
import scipy
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "KernelsTests", "Fixtures")

SHAPE = (16, 20, 24)  # slices, rows, columns


def main():
    rng = np.random.default_rng(20261123)
    # Noise plus a smooth structure, values of CT-like magnitude.
    zz, yy, xx = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in SHAPE], indexing="ij")
    blob = 400.0 * np.exp(-((xx - 9.3) ** 2 / 18 + (yy - 11.2) ** 2 / 10 + (zz - 6.1) ** 2 / 8))
    volume = (rng.normal(0.0, 50.0, SHAPE) + blob - 300.0).astype(np.float32)

    arrays = []  # (name, array)
    cases = []

    def add(name, arr):
        arrays.append((name, np.ascontiguousarray(arr, dtype=np.float32)))
        return name

    add("input", volume)

    # gaussian_filter: sigma given as (z, y, x) like scipy; record x/y/z explicitly.
    gauss_cases = [
        ((1.5, 1.5, 1.5), (0, 0, 0)),
        ((2.0, 1.3, 0.8), (0, 0, 0)),
        ((2.0, 1.3, 0.8), (0, 0, 1)),
        ((2.0, 1.3, 0.8), (0, 1, 0)),
        ((2.0, 1.3, 0.8), (1, 0, 0)),
        ((2.0, 1.3, 0.8), (0, 0, 2)),
        ((2.0, 1.3, 0.8), (0, 2, 0)),
        ((2.0, 1.3, 0.8), (2, 0, 0)),
        ((2.0, 1.3, 0.8), (0, 1, 1)),
        ((2.0, 1.3, 0.8), (1, 0, 1)),
        ((2.0, 1.3, 0.8), (1, 1, 0)),
        # radius 20 > 16 slices: exercises the periodic extension of 'reflect'.
        ((5.0, 1.0, 0.6), (2, 0, 0)),
    ]
    for sigma, order in gauss_cases:
        out = ndimage.gaussian_filter(volume, sigma=sigma, order=order, mode="reflect", truncate=4.0)
        name = "gaussian_s%s_o%s" % ("_".join(str(s) for s in sigma), "".join(str(o) for o in order))
        cases.append({"kind": "gaussian", "output": add(name, out),
                      "sigma_x": sigma[2], "sigma_y": sigma[1], "sigma_z": sigma[0],
                      "order_x": order[2], "order_y": order[1], "order_z": order[0]})

    for sigma in [(1.0, 1.0, 1.0), (2.0, 1.5, 1.0)]:
        out = ndimage.gaussian_laplace(volume, sigma=sigma, mode="reflect", truncate=4.0)
        name = "laplace_s%s" % "_".join(str(s) for s in sigma)
        cases.append({"kind": "gaussian_laplace", "output": add(name, out),
                      "sigma_x": sigma[2], "sigma_y": sigma[1], "sigma_z": sigma[0]})

    # Scale-normalised Hessian eigenvalues in mm for anisotropic spacing, computed independently:
    # scipy derivatives in float64 -> divide by spacings -> times sigma^2 -> numpy eigvalsh.
    spacing = {"x": 0.7, "y": 0.8, "z": 1.5}
    sigma_mm = 2.0
    sig = (sigma_mm / spacing["z"], sigma_mm / spacing["y"], sigma_mm / spacing["x"])
    v64 = volume.astype(np.float64)
    axes = {"z": 0, "y": 1, "x": 2}

    def d2(a, b):
        order = [0, 0, 0]
        order[axes[a]] += 1
        order[axes[b]] += 1
        out = ndimage.gaussian_filter(v64, sigma=sig, order=order, mode="reflect", truncate=4.0)
        return out * sigma_mm ** 2 / (spacing[a] * spacing[b])

    hxx, hyy, hzz = d2("x", "x"), d2("y", "y"), d2("z", "z")
    hxy, hxz, hyz = d2("x", "y"), d2("x", "z"), d2("y", "z")
    H = np.stack([np.stack([hxx, hxy, hxz], -1), np.stack([hxy, hyy, hyz], -1),
                  np.stack([hxz, hyz, hzz], -1)], -2)
    ev = np.linalg.eigvalsh(H)  # ascending
    cases.append({"kind": "hessian_eigenvalues", "sigma_mm": sigma_mm,
                  "spacing_x": spacing["x"], "spacing_y": spacing["y"], "spacing_z": spacing["z"],
                  "lambda1": add("hessian_l1", ev[..., 0]), "lambda2": add("hessian_l2", ev[..., 1]),
                  "lambda3": add("hessian_l3", ev[..., 2]),
                  "xx": add("hessian_xx", hxx), "xy": add("hessian_xy", hxy), "yz": add("hessian_yz", hyz)})

    os.makedirs(OUT, exist_ok=True)
    offset = 0
    index = {}
    with open(os.path.join(OUT, "kernels_reference.f32"), "wb") as f:
        for name, arr in arrays:
            f.write(arr.astype("<f4").tobytes())
            index[name] = {"offset": offset, "count": int(arr.size)}
            offset += arr.size
    manifest = {"generator": "scripts/reference/kernels_reference.py",
                "scipy": scipy.__version__, "numpy": np.__version__,
                "shape_zyx": list(SHAPE), "input": "input", "arrays": index, "cases": cases}
    with open(os.path.join(OUT, "kernels_reference.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("wrote %d arrays (%d floats) to %s" % (len(arrays), offset, OUT))


if __name__ == "__main__":
    main()
