#!/usr/bin/env python3
"""Reading a 300-slice 512x512 CT series into a HU volume: `triage inspect` against pydicom.

    Benchmarks/compare_dicom_read.py [--slices 300] [--size 512] [--runs 5] [--series DIR] [--triage BIN]

Sets up Benchmarks/.venv (pydicom 3.0.2 + numpy) when it is missing and re-runs itself in it;
writes the series with pydicom into Benchmarks/results/dicom-read-series/ (once); builds
`triage` in release mode unless --triage is given. Both sides start from warm page cache
and end with a float32 HU volume sorted along the slice normal with padding at -1024:
  - ours: `triage inspect --json DIR` (process start, discovery of every header, sorting,
    parallel decode into the volume, HU statistics, JSON output);
  - pydicom: dcmread + pixel_array per file, rescale to HU as float32, padding to -1024,
    sort by Image Position along the normal, stack into one array.
Prints the median (and min) wall time of --runs runs of each, MB/s of pixel data, and the ratio.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv")


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(python):
        print("setting up Benchmarks/.venv (pydicom, numpy)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "pydicom==3.0.2", "numpy"], check=True)
    os.execv(python, [python] + sys.argv)


def write_series(folder, slices, size):
    import numpy as np
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:size, 0:size]
    r = np.hypot(x - size / 2, y - size / 2)
    body = (r < size * 0.42)
    lungs = (np.hypot((x - size * 0.33) / 0.6, y - size / 2) < size * 0.16) | \
            (np.hypot((x - size * 0.67) / 0.6, y - size / 2) < size * 0.16)
    base = np.where(body, 40.0, -1000.0)
    base = np.where(lungs, -850.0, base)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    order = rng.permutation(slices)  # file names do not follow slice order
    for k in range(slices):
        hu = base + rng.normal(0, 20, base.shape)
        stored = np.clip(hu + 1024, -2000, 4000).astype(np.int16)
        stored[r >= size * 0.49] = -2000  # outside the field of view: Pixel Padding Value
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = os.path.join(folder, f"IM{order[k]:05d}.dcm")
        ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.PatientID = "BENCH-1"
        ds.PatientName = "BENCHMARK^SERIES"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-200.0, -200.0, -300.0 + 1.25 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.78125, 0.78125]
        ds.SliceThickness = 1.25
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelPaddingValue = -2000
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = stored.tobytes()
        ds.save_as(path, enforce_file_format=True)


def read_with_pydicom(folder):
    import numpy as np
    import pydicom
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))
    datasets = [pydicom.dcmread(f) for f in files]
    def along_normal(ds):
        o = np.array(ds.ImageOrientationPatient, dtype=float)
        return float(np.dot(np.cross(o[:3], o[3:]), np.array(ds.ImagePositionPatient, dtype=float)))
    datasets.sort(key=along_normal)
    first = datasets[0]
    volume = np.empty((len(datasets), first.Rows, first.Columns), dtype=np.float32)
    padding = 0
    hu_sum = 0.0
    for k, ds in enumerate(datasets):
        stored = ds.pixel_array
        hu = stored.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        if "PixelPaddingValue" in ds:
            mask = stored == ds.PixelPaddingValue
            padding += int(mask.sum())
            hu_sum += float(hu[~mask].sum(dtype=np.float64))
            hu[mask] = -1024
        volume[k] = hu
    return volume, padding, hu_sum / (volume.size - padding)


def timed(fn, runs):
    """Median and min wall time, and median CPU time (user+sys, this process and children):
    on a shared, loaded machine CPU time shows the work when wall time shows the queueing."""
    import resource
    times, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(r0, r1)))
    return statistics.median(times), min(times), statistics.median(cpu)


def main():
    ensure_venv()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--series", default=None, help="an existing DICOM series folder to read instead")
    parser.add_argument("--triage", default=None, help="a built triage binary (default: swift build -c release)")
    args = parser.parse_args()

    folder = args.series or os.path.join(HERE, "results", f"dicom-read-series-{args.slices}x{args.size}")
    if not args.series and not os.path.exists(folder + ".done"):
        print(f"writing {args.slices} slices of {args.size}x{args.size} with pydicom to {folder}", file=sys.stderr)
        write_series(folder, args.slices, args.size)
        open(folder + ".done", "w").close()
    triage = args.triage
    if triage is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "triage"], cwd=ROOT, check=True)
        triage = os.path.join(ROOT, ".build", "release", "triage")

    files = [f for f in os.listdir(folder) if f.endswith(".dcm")]
    pixel_mb = sum(os.path.getsize(os.path.join(folder, f)) for f in files) / 1e6

    def ours():
        out = subprocess.run([triage, "inspect", "--json", folder], capture_output=True)
        if out.returncode != 0:
            sys.exit(f"triage inspect failed: {out.stderr.decode()[-2000:]}")

    # Cross-check before timing: both readers agree on the volume's statistics.
    import json
    import numpy as np
    report = json.loads(subprocess.run([triage, "inspect", "--json", folder], capture_output=True).stdout)
    volume, padding, mean_py = read_with_pydicom(folder)
    s = report["series"][0]
    assert s["size"]["slices"] == volume.shape[0], "slice counts differ"
    assert s["hu_statistics"]["padding_voxels"] == padding, "padding counts differ"
    assert abs(s["hu_statistics"]["mean"] - mean_py) < 1e-3, "HU means differ"

    ours()  # warm the page cache and the binary
    t_ours, min_ours, cpu_ours = timed(ours, args.runs)
    t_py, min_py, cpu_py = timed(lambda: read_with_pydicom(folder), args.runs)
    load = os.getloadavg()[0]

    voxels = volume.size
    print(f"series: {len(files)} files, {volume.shape[2]}x{volume.shape[1]}x{volume.shape[0]}, {pixel_mb:.0f} MB; "
          f"median of {args.runs} runs, {os.cpu_count()} CPUs")
    print(f"cross-check: HU mean over non-padding {s['hu_statistics']['mean']:.4f} (pydicom {mean_py:.4f}), "
          f"padding voxels {padding} in both")
    print()
    print(f"load average during the runs: {load:.1f}")
    print("| reader | median wall s | min wall s | median CPU s | MB/s (wall) | Mvoxel/s (wall) |")
    print("|---|---|---|---|---|---|")
    print(f"| triage inspect (Swift, release) | {t_ours:.3f} | {min_ours:.3f} | {cpu_ours:.3f} | {pixel_mb / t_ours:.0f} | {voxels / t_ours / 1e6:.0f} |")
    print(f"| pydicom 3.0.2 + numpy | {t_py:.3f} | {min_py:.3f} | {cpu_py:.3f} | {pixel_mb / t_py:.0f} | {voxels / t_py / 1e6:.0f} |")
    print()
    print(f"ratio (wall, median): triage is {t_py / t_ours:.1f}x faster than pydicom; "
          f"CPU time ratio {cpu_py / cpu_ours:.1f}x")


if __name__ == "__main__":
    main()
