#!/usr/bin/env python3
"""Render the batch worklist and one study report in headless Chromium and check them.

    scripts/render_reports.py OUT [--report OUT/studies/<folder>/report.html]
                                  [--screenshots DIR] [--chromium BIN]

For OUT/worklist.html and one report.html (the first study in reading order that has
findings, unless --report is given) it checks:

1. every <img> refers by relative path to a file inside OUT that exists and is a PNG, and
   the width/height attributes in the page match the PNG's own size;
2. in a real browser (Chromium, headless), every <img> finished loading with its natural
   size equal to the PNG's size (so no broken image): the page is copied beside itself
   with a small script added (allowed by a CSP nonce, the page's own image policy kept)
   that lists each image's load state, and Chromium's --dump-dom output is read back;
3. a screenshot of the unmodified page at the window size is written (and is a PNG of
   that size).

It also validates every OUT/studies/*/findings.json against docs/findings-schema.json
with python-jsonschema when that package is installed (the Swift tests check the schema
too). Standard library only otherwise. Exit status 0 when everything passed, 1 otherwise.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NONCE = "rendercheck"
CHECK_SCRIPT = """<script nonce="%s">
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('img').forEach(function (img) {
    out.push({src: img.getAttribute('src'), complete: img.complete,
              naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight});
  });
  var pre = document.createElement('pre');
  pre.id = 'render-check';
    // Markers split so the script's own text in the dumped DOM does not match.
  pre.textContent = 'RENDER-CHECK-' + 'BEGIN' + JSON.stringify(out) + 'RENDER-CHECK-' + 'END';
  document.body.appendChild(pre);
});
</script>
""" % NONCE


class ImageCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def find_chromium(explicit):
    for name in ([explicit] if explicit else ["chromium", "chromium-browser", "google-chrome"]):
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def chromium_base(chromium, profile):
    # --no-sandbox: CI containers run as root, where Chromium refuses its sandbox.
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--allow-file-access-from-files", "--user-data-dir=" + profile]


def check_page(page, out_dir, chromium, screenshot, window, failures):
    name = os.path.relpath(page, out_dir)
    with open(page, encoding="utf-8") as f:
        text = f.read()
    collector = ImageCollector()
    collector.feed(text)
    expected = {}
    for img in collector.images:
        src = img.get("src", "")
        if not src or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith("/"):
            failures.append("%s: <img src=%r> is not a relative path" % (name, src))
            continue
        path = os.path.normpath(os.path.join(os.path.dirname(page), urllib.parse.unquote(src)))
        if not path.startswith(os.path.abspath(out_dir) + os.sep):
            failures.append("%s: <img src=%r> points outside the output folder" % (name, src))
            continue
        if not os.path.isfile(path):
            failures.append("%s: <img src=%r>: file missing" % (name, src))
            continue
        size = png_size(path)
        if size is None:
            failures.append("%s: <img src=%r>: not a PNG" % (name, src))
            continue
        expected[src] = size
        w, h = img.get("width"), img.get("height")
        # The worklist shows thumbnails at a fixed 72x72 box; reports give natural sizes.
        if w and h and "thumb" not in img.get("class", "") and (int(w), int(h)) != size:
            failures.append("%s: <img src=%r> says %sx%s, PNG is %dx%d" % (name, src, w, h, size[0], size[1]))

    profile = tempfile.mkdtemp(prefix="render-reports-profile-")
    probe = os.path.join(os.path.dirname(page), ".render-check-%d-%s" % (os.getpid(), os.path.basename(page)))
    try:
        # The copy keeps the page's image policy and adds a nonce for the check script.
        checked = text.replace("style-src 'unsafe-inline'", "style-src 'unsafe-inline'; script-src 'nonce-%s'" % NONCE, 1)
        checked = checked.replace("</body>", CHECK_SCRIPT + "</body>", 1)
        with open(probe, "w", encoding="utf-8") as f:
            f.write(checked)
        result = subprocess.run(chromium_base(chromium, profile) + ["--virtual-time-budget=10000", "--dump-dom",
                                "file://" + probe], capture_output=True, text=True, timeout=120)
        match = re.search(r"RENDER-CHECK-BEGIN(.*?)RENDER-CHECK-END", result.stdout, re.S)
        if not match:
            failures.append("%s: Chromium did not run the load check (exit %d): %s"
                            % (name, result.returncode, result.stderr.strip()[-400:]))
            loaded = []
        else:
            loaded = json.loads(match.group(1))
        if match and len(loaded) != len(collector.images):
            failures.append("%s: browser saw %d images, the page has %d" % (name, len(loaded), len(collector.images)))
        for img in loaded:
            size = expected.get(img["src"])
            if not img["complete"] or img["naturalWidth"] == 0:
                failures.append("%s: %s did not load in Chromium" % (name, img["src"]))
            elif size and (img["naturalWidth"], img["naturalHeight"]) != size:
                failures.append("%s: %s loaded as %dx%d, PNG is %dx%d"
                                % (name, img["src"], img["naturalWidth"], img["naturalHeight"], size[0], size[1]))

        if screenshot:
            if os.path.exists(screenshot):
                os.remove(screenshot)
            result = subprocess.run(chromium_base(chromium, profile) + [
                "--window-size=%d,%d" % window, "--virtual-time-budget=10000", "--screenshot=" + screenshot,
                "file://" + os.path.abspath(page)], capture_output=True, text=True, timeout=120)
            size = png_size(screenshot) if os.path.exists(screenshot) else None
            if size != window:
                failures.append("%s: screenshot %s is %s, expected %dx%d (%s)"
                                % (name, screenshot, size, window[0], window[1], result.stderr.strip()[-300:]))
    finally:
        if os.path.exists(probe):
            os.remove(probe)
        shutil.rmtree(profile, ignore_errors=True)
    return len(loaded)


def pick_report(out_dir):
    with open(os.path.join(out_dir, "worklist.json"), encoding="utf-8") as f:
        studies = json.load(f)["studies"]
    ok = [s for s in studies if s["status"] == "ok"]
    chosen = next((s for s in ok if s["finding_count"] > 0), ok[0] if ok else (studies[0] if studies else None))
    return os.path.join(out_dir, chosen["report"]) if chosen else None


def validate_findings(out_dir, failures):
    try:
        import jsonschema
    except ImportError:
        print("render_reports: python jsonschema not installed; schema validation left to the Swift tests")
        return 0
    with open(os.path.join(REPO, "docs", "findings-schema.json"), encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    count = 0
    studies = os.path.join(out_dir, "studies")
    for folder in sorted(os.listdir(studies)) if os.path.isdir(studies) else []:
        path = os.path.join(studies, folder, "findings.json")
        if folder.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        for error in validator.iter_errors(document):
            failures.append("%s: %s at %s" % (path, error.message, "/".join(map(str, error.absolute_path))))
        count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the batch output folder (holds worklist.html and studies/)")
    parser.add_argument("--report", help="the report.html to check (default: first in reading order with findings)")
    parser.add_argument("--screenshots", help="folder for worklist.png and report.png")
    parser.add_argument("--chromium", help="browser binary (default: chromium on PATH)")
    parser.add_argument("--worklist-window", default="1400x900")
    parser.add_argument("--report-window", default="1400x1800")
    args = parser.parse_args()

    out_dir = os.path.abspath(args.out)
    chromium = find_chromium(args.chromium)
    if not chromium:
        print("render_reports: FAIL: chromium not found (Debian: apt-get install chromium; "
              "scripts/setup.sh --tests installs it)", file=sys.stderr)
        return 1
    failures = []
    worklist = os.path.join(out_dir, "worklist.html")
    report = os.path.abspath(args.report) if args.report else pick_report(out_dir)
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    pages = [("worklist", worklist, args.worklist_window), ("report", report, args.report_window)]
    for label, page, window in pages:
        if not page or not os.path.isfile(page):
            failures.append("%s page missing: %s" % (label, page))
            continue
        shot = os.path.join(args.screenshots, label + ".png") if args.screenshots else None
        w, h = (int(v) for v in window.split("x"))
        n = check_page(page, out_dir, chromium, shot, (w, h), failures)
        print("render_reports: %s: %s: %d images loaded in Chromium%s"
              % (label, os.path.relpath(page, out_dir), n, (", screenshot " + shot) if shot else ""))
    n = validate_findings(out_dir, failures)
    if n:
        print("render_reports: %d findings.json validated against docs/findings-schema.json" % n)
    for failure in failures:
        print("render_reports: FAIL: " + failure, file=sys.stderr)
    print("render_reports: %s" % ("OK" if not failures else "%d problem(s)" % len(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
