#!/usr/bin/env python3
"""Reading a 300-slice 512x512 CT series into a HU volume: `triage inspect` against pydicom.

    python3 Benchmarks/compare_dicom_read.py [--slices 300] [--size 512] [--runs 7] [--series DIR] [--triage BIN]
                                             [--pause SECONDS]

Sets up Benchmarks/.venv (pydicom 3.0.2 + numpy) when it is missing and re-runs itself in it;
writes the series with pydicom into Benchmarks/results/dicom-read-series-300x512/ (once); builds
`triage` in release mode unless --triage is given. Every side starts from warm page cache
and ends with a float32 HU volume sorted along the slice normal with padding at -1024:
  - triage: `triage inspect --json DIR` as a fresh process (process start, discovery of every
    header, sorting, parallel decode into the volume, HU statistics, JSON output);
  - pydicom (in process): dcmread + pixel_array per file, rescale to HU as float32, padding to
    -1024, sort by Image Position along the normal, stack into one array, timed inside this
    already running Python with pydicom and numpy imported: the library's own time. This
    leaves out the interpreter start and the imports that `triage` does pay (its process
    start), so it is the strict comparison and the headline ratio;
  - pydicom (process): the same function run as `python this_script --pydicom-child DIR`, a
    fresh process like `triage inspect`: what running a pydicom script costs.
The runs are interleaved (triage, pydicom, pydicom process, triage, ...) so that load from
other jobs on a shared machine falls on all sides alike. Prints medians (and min) of wall
time and of CPU time (user+sys), MB/s, the ratios, and the load average before and after.
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


def timed_once(fn):
    """Wall time and CPU time (user+sys of this process and its children) of one call: on a
    shared, loaded machine CPU time shows the work when wall time shows the queueing."""
    import resource
    r0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(r0, r1))
    return wall, cpu


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--pydicom-child":
        read_with_pydicom(sys.argv[2])
        return
    ensure_venv()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--series", default=None, help="an existing DICOM series folder to read instead")
    parser.add_argument("--triage", default=None, help="a built triage binary (default: swift build -c release)")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds of idle before each triage run (not timed): on a VM that hands free "
                             "memory back to the host, shows the cost of a run after the machine was idle")
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

    def pydicom_process():
        subprocess.run([sys.executable, os.path.abspath(__file__), "--pydicom-child", folder], check=True)

    # Cross-check before timing: both readers agree on the volume's statistics.
    import json
    report = json.loads(subprocess.run([triage, "inspect", "--json", folder], capture_output=True).stdout)
    volume, padding, mean_py = read_with_pydicom(folder)
    s = report["series"][0]
    assert s["size"]["slices"] == volume.shape[0], "slice counts differ"
    assert s["hu_statistics"]["padding_voxels"] == padding, "padding counts differ"
    assert abs(s["hu_statistics"]["mean"] - mean_py) < 1e-3, "HU means differ"
    voxels = volume.size
    del volume

    sides = [("triage inspect (Swift, release, a process)", ours),
             ("pydicom 3.0.2 + numpy, in process", lambda: read_with_pydicom(folder)),
             ("pydicom 3.0.2 + numpy, a process", pydicom_process)]
    for _, fn in sides:
        fn()  # warm the page cache, the binaries and the imports
    load_before = os.getloadavg()[0]
    samples = {name: ([], []) for name, _ in sides}
    for _ in range(args.runs):
        for name, fn in sides:
            if fn is ours and args.pause > 0:
                time.sleep(args.pause)
            wall, cpu = timed_once(fn)
            samples[name][0].append(wall)
            samples[name][1].append(cpu)
    load_after = os.getloadavg()[0]

    print(f"series: {len(files)} files, {volume_shape(s)}, {pixel_mb:.0f} MB; median of {args.runs} interleaved runs, "
          f"{os.cpu_count()} CPUs" + (f", {args.pause:g} s idle before each triage run" if args.pause else ""))
    print(f"cross-check: HU mean over non-padding {s['hu_statistics']['mean']:.4f} (pydicom {mean_py:.4f}), "
          f"padding voxels {padding} in both")
    print()
    print(f"load average (1 min) before the runs: {load_before:.1f}, after: {load_after:.1f}")
    print("| reader | median wall s | min wall s | median CPU s | MB/s (wall) | Mvoxel/s (wall) |")
    print("|---|---|---|---|---|---|")
    medians = {}
    for name, _ in sides:
        walls, cpus = samples[name]
        w, c = statistics.median(walls), statistics.median(cpus)
        medians[name] = (w, c)
        print(f"| {name} | {w:.3f} | {min(walls):.3f} | {c:.3f} | {pixel_mb / w:.0f} | {voxels / w / 1e6:.0f} |")
    print()
    t_ours, cpu_ours = medians[sides[0][0]]
    t_lib, cpu_lib = medians[sides[1][0]]
    t_proc, cpu_proc = medians[sides[2][0]]
    print(f"ratio (wall, median): triage is {t_lib / t_ours:.1f}x faster than pydicom in process "
          f"(CPU time {cpu_lib / cpu_ours:.1f}x); {t_proc / t_ours:.1f}x faster than a pydicom process "
          f"(CPU time {cpu_proc / cpu_ours:.1f}x)")


def volume_shape(s):
    return f"{s['size']['columns']}x{s['size']['rows']}x{s['size']['slices']}"


if __name__ == "__main__":
    main()
