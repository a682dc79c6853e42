#!/usr/bin/env python3
"""Side-by-side: scipy.ndimage vs our release-built kernels on the same Float32 volume.

    python3 Benchmarks/compare_kernels.py                 # 300x512x512, prints markdown tables
    python3 Benchmarks/compare_kernels.py --shape 60 256 256 --repeat 3
    python3 Benchmarks/compare_kernels.py --op gaussian   # only the Gaussian (scipy + ours)
    python3 Benchmarks/compare_kernels.py --op gemm       # only the filter-bank table (no scipy)

Runs, in one go and on one volume file:
  scipy: gaussian_filter(sigma=2); the six Hessian second derivatives (gaussian_filter with
         order=) + numpy.linalg.eigvalsh; gaussian_laplace(sigma=2)
  ours:  Benchmarks/Tools/KernelsCompare (GaussianFilter, HessianFilter.eigenvalues,
         LaplacianOfGaussian, Convolution3D vs raw cblas_sgemm), median of --repeat runs,
         plus peak resident memory of a Gaussian-only and a Hessian-only run (/usr/bin/time -v).
If scipy/numpy are not importable, installs them into Benchmarks/.venv and re-runs itself there.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def ensure_python_packages():
    try:
        import numpy  # noqa: F401
        import scipy  # noqa: F401
        return
    except ImportError:
        pass
    venv = os.path.join(HERE, ".venv")
    python = os.path.join(venv, "bin", "python3")
    if os.environ.get("KERNELS_COMPARE_IN_VENV"):
        sys.exit("numpy/scipy still missing inside %s" % venv)
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    subprocess.check_call([python, "-m", "pip", "install", "--quiet", "numpy", "scipy"])
    env = dict(os.environ, KERNELS_COMPARE_IN_VENV="1")
    os.execve(python, [python] + sys.argv, env)


def build_tool():
    subprocess.check_call(["swift", "build", "-c", "release", "--package-path", HERE, "--product", "kernels-compare"])
    out = subprocess.check_output(["swift", "build", "-c", "release", "--package-path", HERE, "--show-bin-path"], text=True)
    return os.path.join(out.strip(), "kernels-compare")


def peak_rss_mb(cmd):
    """Maximum resident set size of `cmd` in MB, via GNU time."""
    if not os.path.exists("/usr/bin/time"):
        return None
    res = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, check=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    return int(m.group(1)) / 1024.0 if m else None


def time_call(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", nargs=3, type=int, default=[300, 512, 512], metavar=("Z", "Y", "X"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of our kernels (median)")
    ap.add_argument("--scipy-repeat", type=int, default=1, help="runs of each scipy operation (median)")
    ap.add_argument("--tool", help="path of a built kernels-compare (skips the swift build)")
    ap.add_argument("--json", help="also write all figures to this JSON file")
    ap.add_argument("--op", choices=["all", "gaussian", "gemm"], default="all",
                    help="all (default), only the Gaussian, or only the filter bank (short measuring windows)")
    args = ap.parse_args()
    ensure_python_packages()
    import numpy as np
    import scipy
    from scipy import ndimage

    tool = args.tool or build_tool()
    shape = tuple(args.shape)
    if args.op == "gemm":
        ours = json.loads(subprocess.check_output([tool, "--op", "gemm", "--repeat", str(args.repeat)], text=True))
        print_gemm_table(ours["ops"])
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"ours": ours}, f, indent=1)
        return
    rng = np.random.default_rng(20261123)
    volume = rng.uniform(-1000.0, 400.0, size=shape).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "volume.f32")
        volume.astype("<f4").tofile(path)
        base = [tool, "--volume", path, "--shape"] + [str(s) for s in shape]
        ours = json.loads(subprocess.check_output(base + ["--op", args.op, "--repeat", str(args.repeat)], text=True))
        mem_gauss = peak_rss_mb(base + ["--op", "gaussian", "--repeat", "1"])
        mem_hess = peak_rss_mb(base + ["--op", "hessian_eigen", "--repeat", "1"]) if args.op == "all" else None

    if args.op == "gaussian":
        ref, _ = time_call(lambda: ndimage.gaussian_filter(volume, 2.0), args.scipy_repeat)
        mine = ours["ops"]["gaussian_sigma2"]["median_s"]
        print()
        print("Volume %s Float32, workers %d, scipy %s; ours: median of %d, scipy: median of %d"
              % ("x".join(map(str, shape)), ours["workers"], scipy.__version__, args.repeat, args.scipy_repeat))
        print()
        print("| kernel | scipy.ndimage (s) | ours (s) | speed-up |")
        print("|---|---:|---:|---:|")
        print("| Gaussian sigma=2 voxels | %.2f | %.3f | %.1fx |" % (ref, mine, ref / mine))
        print()
        print("Peak resident memory (input volume alone is %.0f MB): Gaussian run %.0f MB"
              % (volume.nbytes / 2**20, mem_gauss or float("nan")))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"shape": shape, "scipy_s": {"gaussian": ref}, "ours": ours,
                           "peak_rss_mb": {"gaussian": mem_gauss}}, f, indent=1)
        return

    # scipy, same volume, float32 in and out (scipy accumulates in float64 internally).
    s = {}
    s["gaussian"], _ = time_call(lambda: ndimage.gaussian_filter(volume, 2.0), args.scipy_repeat)

    def hessian():
        orders = [(0, 0, 2), (0, 2, 0), (2, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
        return [ndimage.gaussian_filter(volume, 2.0, order=o) for o in orders]

    s["hessian"], d = time_call(hessian, args.scipy_repeat)

    def eig():
        xx, yy, zz, xy, xz, yz = d
        h = np.empty(shape + (3, 3), dtype=np.float32)
        h[..., 0, 0], h[..., 1, 1], h[..., 2, 2] = xx, yy, zz
        h[..., 0, 1] = h[..., 1, 0] = xy
        h[..., 0, 2] = h[..., 2, 0] = xz
        h[..., 1, 2] = h[..., 2, 1] = yz
        return np.linalg.eigvalsh(h)

    s["eigen"], _ = time_call(eig, args.scipy_repeat)
    del d
    s["log"], _ = time_call(lambda: ndimage.gaussian_laplace(volume, 2.0), args.scipy_repeat)

    o = ours["ops"]
    rows = [
        ("Gaussian sigma=2 voxels", s["gaussian"], o["gaussian_sigma2"]["median_s"]),
        ("6 Hessian derivatives + eigenvalues", s["hessian"] + s["eigen"], o["hessian_eigen_sigma2"]["median_s"]),
        ("LoG sigma=2 voxels", s["log"], o["log_sigma2"]["median_s"]),
    ]
    print()
    print("Volume %s Float32, workers %d, scipy %s, numpy %s; ours: median of %d, scipy: median of %d"
          % ("x".join(map(str, shape)), ours["workers"], scipy.__version__, np.__version__,
             args.repeat, args.scipy_repeat))
    print()
    print("| kernel | scipy.ndimage (s) | ours (s) | speed-up |")
    print("|---|---:|---:|---:|")
    for name, ref, mine in rows:
        print("| %s | %.2f | %.3f | %.1fx |" % (name, ref, mine, ref / mine))
    print("| (scipy split: Hessian derivatives %.2f s + eigvalsh %.2f s) | | | |" % (s["hessian"], s["eigen"]))
    print()
    print("Peak resident memory (input volume alone is %.0f MB): Gaussian run %.0f MB, Hessian+eigen run %.0f MB"
          % (volume.nbytes / 2**20, mem_gauss or float("nan"), mem_hess or float("nan")))
    print_gemm_table(o)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"shape": shape, "scipy_s": s, "ours": ours,
                       "peak_rss_mb": {"gaussian": mem_gauss, "hessian_eigen": mem_hess}}, f, indent=1)


def print_gemm_table(o):
    """The filter-bank table: our layer (2 M N K / time, whichever path `apply` picked) vs raw sgemm."""
    print()
    print("| layer (M x N x K) | path | ours GFLOP/s | raw sgemm same shape GFLOP/s | ratio |")
    print("|---|---|---:|---:|---:|")
    for layer in o["gemm_layers"]:
        print("| %s (%d x %d x %d) | %s | %.1f | %.1f | %.0f%% |" % (
            layer["name"], layer["M"], layer["N"], layer["K"], layer.get("path", "im2col+sgemm"),
            layer["conv_gflops"], layer["sgemm_gflops"], 100 * layer["conv_gflops"] / layer["sgemm_gflops"]))
    print()
    print("Raw cblas_sgemm 2048^3: %.1f GFLOP/s" % o["sgemm_square_2048_gflops"])


if __name__ == "__main__":
    main()
