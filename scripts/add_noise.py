#!/usr/bin/env python3
"""A noisier copy of a phantom set, for stress-testing the detector against dose and kernel.

Our phantoms carry 12-28 HU of noise (docs/phantoms.md, "Acquisition model"), about what the
real slices in ../shared/real-ct measure (standard kernels); low-dose screening scans read
with sharp kernels are noisier. This copies every case of SRC to DST (truth.json and the
other files unchanged, the same UIDs, so `triage evaluate` scores the copy against the same
truth) and adds to each DICOM slice Gaussian noise correlated over CORR pixels, scaled to
SIGMA HU standard deviation (independent of the noise already there, so the total is about
sqrt(SIGMA^2 + phantom^2)). Pixel-padding pixels stay padding; values are clipped to the
stored type. The noise is seeded (the same copy every run).

    python3 scripts/add_noise.py /work/dev/d1300 /work/dev/d1300-noise70 70
    triage detect /work/dev/d1300-noise70 --out R
    triage evaluate --truth /work/dev/d1300-noise70/truth.json R --phantom-lungs

Needs numpy, scipy and pydicom (reference tooling only, not the product).
"""
import argparse
import os
import shutil

import numpy as np
import pydicom
from scipy.ndimage import gaussian_filter


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a phantom set: case-*/ folders and truth.json")
    parser.add_argument("destination", help="written afresh (must not exist)")
    parser.add_argument("sigma_hu", type=float, help="standard deviation of the added noise, HU")
    parser.add_argument("--correlation-pixels", type=float, default=0.75,
                        help="Gaussian sigma (pixels) that shapes the white noise (default 0.75, the phantom's)")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    if os.path.exists(args.destination):
        parser.error(f"{args.destination} exists")
    if not args.sigma_hu > 0:
        parser.error("sigma_hu must be positive")
    rng = np.random.default_rng(args.seed)
    cases = sorted(d for d in os.listdir(args.source) if os.path.isdir(os.path.join(args.source, d)))
    for case in cases:
        src, dst = os.path.join(args.source, case), os.path.join(args.destination, case)
        os.makedirs(dst)
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            if not name.endswith(".dcm"):
                shutil.copy(path, dst)
                continue
            ds = pydicom.dcmread(path)
            stored = ds.pixel_array
            noise = gaussian_filter(rng.normal(0.0, 1.0, stored.shape), args.correlation_pixels)
            noise *= args.sigma_hu / noise.std()
            slope = float(getattr(ds, "RescaleSlope", 1))
            noisy = stored.astype(np.float64) + noise / slope
            padding = getattr(ds, "PixelPaddingValue", None)
            if padding is not None:
                noisy[stored == padding] = padding
            info = np.iinfo(stored.dtype)
            ds.PixelData = np.clip(np.round(noisy), info.min, info.max).astype(stored.dtype).tobytes()
            ds.save_as(os.path.join(dst, name))
    for name in os.listdir(args.source):
        if os.path.isfile(os.path.join(args.source, name)):
            shutil.copy(os.path.join(args.source, name), args.destination)
    print(f"wrote {len(cases)} cases to {args.destination} (+{args.sigma_hu:g} HU noise)")


if __name__ == "__main__":
    main()
