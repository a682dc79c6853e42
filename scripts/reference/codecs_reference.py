#!/usr/bin/env python3
"""Independent reference fixtures for the ImageCodecs tests.

    python3 scripts/reference/codecs_reference.py write Tests/ImageCodecsTests/Fixtures
    python3 scripts/reference/codecs_reference.py verify-encoded DIR

`write` makes small PNG and JPEG files with encoders that share no code with ours:

* PNGs from a PNG writer in this file built on numpy + zlib only (every colour type, bit
  depths 4/8/16, all five row filters, Adam7 interlacing, a gAMA/sBIT chunk that a decoder
  must *not* apply), plus two PNGs written by Pillow;
* JPEGs written by Pillow (its own bundled libjpeg-turbo build).

and `expected.json` with, per file, the size, bit depth, colour/alpha flags and every
expected gray sample. Gray samples are the stored values; colour is reduced with ITU-R
BT.601 weights in integers, (299 R + 587 G + 114 B + 500) // 1000, at the file's bit depth.
For JPEG the expected samples are Pillow's decode in "L" draft mode (libjpeg's own
colour-to-gray: the Y channel), and the original pixels are stored too so the tests can
also bound the lossy error against the source.

`verify-encoded DIR` checks files written by our encoder (the Swift test
`encoderOutputReadsInPillow` writes them when CODECS_REFERENCE_EXPORT=DIR is set): each
`NAME.png`/`NAME.jpg` is decoded with Pillow and compared with `NAME.json`'s samples.
"""
import json
import pathlib
import struct
import sys
import zlib

import numpy as np

# --------------------------------------------------------------------------- PNG writer

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def pack_rows(samples: np.ndarray, bit_depth: int) -> list:
    """samples: (h, w, c) unsigned ints -> list of row byte strings (unfiltered)."""
    h, w, c = samples.shape
    rows = []
    for y in range(h):
        row = samples[y].reshape(-1)
        if bit_depth == 16:
            rows.append(row.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(row.astype(np.uint8).tobytes())
        else:  # 1, 2, 4 bits, MSB first, rows padded to a byte
            per_byte = 8 // bit_depth
            padded = np.zeros(((len(row) + per_byte - 1) // per_byte) * per_byte, dtype=np.uint8)
            padded[: len(row)] = row
            packed = np.zeros(len(padded) // per_byte, dtype=np.uint8)
            for k in range(per_byte):
                packed |= (padded[k::per_byte] << (8 - bit_depth * (k + 1))).astype(np.uint8)
            rows.append(packed.tobytes())
    return rows


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows: list, bpp: int, first_filter: int) -> bytes:
    """Applies filter types cycling 0..4 (starting at first_filter) so every unfilter path runs."""
    out = bytearray()
    previous = bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ftype = (first_filter + i) % 5
        filtered = bytearray(len(row))
        for x in range(len(row)):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            filtered[x] = (row[x] - predictor) & 0xFF
        out.append(ftype)
        out += filtered
        previous = row
    return bytes(out)


def write_png(path, samples, bit_depth, color_type, palette=None, interlace=False, extra_chunks=()):
    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples[:, :, None]
    h, w, c = samples.shape
    bpp = max(1, c * bit_depth // 8)
    if interlace:
        data = b""
        for n, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            data += filter_rows(pack_rows(sub, bit_depth), bpp, n)
    else:
        data = filter_rows(pack_rows(samples, bit_depth), bpp, 0)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, payload in extra_chunks:
        body += chunk(kind, payload)
    if palette is not None:
        body += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    compressed = zlib.compress(data, 9)
    # Two IDAT chunks: decoders must concatenate them.
    half = len(compressed) // 2
    body += chunk(b"IDAT", compressed[:half]) + chunk(b"IDAT", compressed[half:]) + chunk(b"IEND", b"")
    pathlib.Path(path).write_bytes(body)


def luminance(rgb):
    rgb = rgb.astype(np.int64)
    return (299 * rgb[..., 0] + 587 * rgb[..., 1] + 114 * rgb[..., 2] + 500) // 1000


# --------------------------------------------------------------------------- fixtures


def write_fixtures(out_dir: pathlib.Path):
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    h, w = 11, 13
    expected = {}

    def record(name, gray, bit_depth, was_color, had_alpha, **extra):
        gray = np.asarray(gray)
        expected[name] = dict(width=int(gray.shape[1]), height=int(gray.shape[0]), bit_depth=bit_depth,
                              was_color=was_color, had_alpha=had_alpha,
                              samples=[int(v) for v in gray.reshape(-1)], **extra)

    gray8 = rng.integers(0, 256, (h, w), dtype=np.int64)
    gray8[0, 0], gray8[0, 1] = 0, 255
    write_png(out_dir / "gray8.png", gray8, 8, 0)
    record("gray8.png", gray8, 8, False, False)

    # 16-bit values that expose byte-order mistakes (0x00FF vs 0xFF00) and CT-like HU+1024.
    gray16 = rng.integers(0, 65536, (h, w), dtype=np.int64)
    gray16[0, :4] = [0x00FF, 0xFF00, 65535, 0]
    gray16[1, :3] = [1024 - 1000, 1024 + 40, 1024 + 3071]
    write_png(out_dir / "gray16.png", gray16, 16, 0)
    record("gray16.png", gray16, 16, False, False)

    write_png(out_dir / "gray16_interlaced.png", gray16, 16, 0, interlace=True)
    record("gray16_interlaced.png", gray16, 16, False, False)

    # gAMA 1/2.2 and sBIT 12: a decoder that applied gamma or sBIT would change samples.
    write_png(out_dir / "gray16_gama_sbit.png", gray16, 16, 0,
              extra_chunks=[(b"gAMA", struct.pack(">I", 45455)), (b"sBIT", bytes([12]))])
    record("gray16_gama_sbit.png", gray16, 16, False, False)

    gray4 = rng.integers(0, 16, (h, w), dtype=np.int64)
    write_png(out_dir / "gray4.png", gray4, 4, 0)
    record("gray4.png", gray4 * 17, 8, False, False)  # libpng expands 4-bit v to v * 17

    alpha8 = rng.integers(0, 256, (h, w), dtype=np.int64)
    write_png(out_dir / "gray_alpha8.png", np.stack([gray8, alpha8], -1), 8, 4)
    record("gray_alpha8.png", gray8, 8, False, True)

    alpha16 = rng.integers(0, 65536, (h, w), dtype=np.int64)
    write_png(out_dir / "gray_alpha16_interlaced.png", np.stack([gray16, alpha16], -1), 16, 4, interlace=True)
    record("gray_alpha16_interlaced.png", gray16, 16, False, True)

    rgb8 = rng.integers(0, 256, (h, w, 3), dtype=np.int64)
    rgb8[0, 0] = [200, 200, 200]  # gray pixel keeps its value
    write_png(out_dir / "rgb8.png", rgb8, 8, 2)
    record("rgb8.png", luminance(rgb8), 8, True, False)

    write_png(out_dir / "rgb8_interlaced.png", rgb8, 8, 2, interlace=True)
    record("rgb8_interlaced.png", luminance(rgb8), 8, True, False)

    rgba16 = rng.integers(0, 65536, (h, w, 4), dtype=np.int64)
    write_png(out_dir / "rgba16.png", rgba16, 16, 6)
    record("rgba16.png", luminance(rgba16[..., :3]), 16, True, True)

    rgb16 = rng.integers(0, 65536, (h, w, 3), dtype=np.int64)
    write_png(out_dir / "rgb16_interlaced.png", rgb16, 16, 2, interlace=True)
    record("rgb16_interlaced.png", luminance(rgb16), 16, True, False)

    palette = rng.integers(0, 256, (16, 3), dtype=np.int64)
    indices = rng.integers(0, 16, (h, w), dtype=np.int64)
    write_png(out_dir / "palette4.png", indices, 4, 3, palette=palette)
    record("palette4.png", luminance(palette[indices]), 8, True, False)

    gray_palette = np.repeat(np.arange(0, 256, 17, dtype=np.int64)[:, None], 3, axis=1)
    write_png(out_dir / "palette_gray8.png", indices, 8, 3, palette=gray_palette)
    record("palette_gray8.png", gray_palette[indices][..., 0], 8, False, False)

    one = np.array([[4242]], dtype=np.int64)
    write_png(out_dir / "gray16_1x1_interlaced.png", one, 16, 0, interlace=True)
    record("gray16_1x1_interlaced.png", one, 16, False, False)

    # Pillow's own PNG writer (different zlib stream, filter heuristics).
    Image.fromarray(gray16.astype(np.uint16)).save(out_dir / "pillow_gray16.png")
    record("pillow_gray16.png", gray16, 16, False, False)
    Image.fromarray(rgb8.astype(np.uint8), "RGB").save(out_dir / "pillow_rgb8.png")
    record("pillow_rgb8.png", luminance(rgb8), 8, True, False)

    # JPEG: a smooth image with texture across several 8x8 / 16x16 MCUs, partial at the edges.
    jh, jw = 29, 37
    yy, xx = np.mgrid[0:jh, 0:jw]
    base = 128 + 80 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + rng.normal(0, 6, (jh, jw))
    jgray = np.clip(np.rint(base), 0, 255).astype(np.uint8)
    jrgb = np.stack([jgray, np.clip(jgray.astype(int) + 40 * np.sin(yy / 3.0), 0, 255),
                     np.clip(255 - jgray.astype(int), 0, 255)], -1).astype(np.uint8)

    def record_jpeg(name, original_gray):
        im = Image.open(out_dir / name)
        im.draft("L", im.size)  # libjpeg's own colour -> gray conversion, as our decoder asks for
        assert im.mode == "L", im.mode
        decoded = np.asarray(im)
        was_color = len(Image.open(out_dir / name).getbands()) > 1
        record(name, decoded, 8, was_color, False, original=[int(v) for v in original_gray.reshape(-1)])

    Image.fromarray(jgray, "L").save(out_dir / "gray.jpg", quality=95)
    record_jpeg("gray.jpg", jgray)
    Image.fromarray(jgray, "L").save(out_dir / "gray_progressive.jpg", quality=90, progressive=True)
    record_jpeg("gray_progressive.jpg", jgray)
    Image.fromarray(jrgb, "RGB").save(out_dir / "color420.jpg", quality=95, subsampling=2)
    record_jpeg("color420.jpg", luminance(jrgb))

    (out_dir / "expected.json").write_text(json.dumps(
        {"generator": "scripts/reference/codecs_reference.py", "luminance": "BT.601 (299R+587G+114B+500)//1000",
         "files": expected}, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(expected)} fixtures to {out_dir}")


def verify_encoded(directory: pathlib.Path):
    from PIL import Image

    failures = 0
    checked = 0
    for meta_path in sorted(directory.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        image_path = directory / meta["file"]
        im = Image.open(image_path)
        pixels = np.asarray(im).astype(np.int64)
        samples = np.asarray(meta["samples"], dtype=np.int64).reshape(meta["height"], meta["width"], -1)
        if samples.shape[-1] == 1:
            samples = samples[..., 0]
        if meta["format"] == "png":
            ok = pixels.shape == samples.shape and np.array_equal(pixels, samples)
            detail = "exact" if ok else f"mismatch (max diff {np.abs(pixels - samples).max() if pixels.shape == samples.shape else 'shape'})"
        else:
            diff = np.abs(pixels - samples)
            ok = pixels.shape == samples.shape and diff.mean() < meta["mean_error_limit"]
            detail = f"mean abs error {diff.mean():.3f}, max {diff.max()}"
        print(f"{'ok  ' if ok else 'FAIL'} {image_path.name}: {im.mode} {im.size} {detail}")
        failures += 0 if ok else 1
        checked += 1
    print(f"{checked} files checked, {failures} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write_fixtures(pathlib.Path(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "verify-encoded":
        sys.exit(verify_encoded(pathlib.Path(sys.argv[2])))
    else:
        print(__doc__)
        sys.exit(2)
