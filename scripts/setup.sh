#!/usr/bin/env bash
# Installs the Debian packages the project needs, and nothing when they are present.
#   scripts/setup.sh            build/run dependencies
#   scripts/setup.sh --tests    plus what the test suite needs (headless browser, ...)
set -euo pipefail

packages=(libpng-dev libjpeg-dev libopenblas-dev pkg-config)
if [[ "${1:-}" == "--tests" ]]; then
    # Test-only tools: a real browser renders the HTML reports.
    packages+=(chromium)
    # The browser test drives Chromium from a small Python script (standard library only).
    command -v python3 >/dev/null || packages+=(python3)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "setup: Swift is not on PATH (install a Swift 6 toolchain)" >&2; exit 1; }
