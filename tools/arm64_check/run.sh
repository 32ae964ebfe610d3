#!/usr/bin/env bash
# Proves the transform Lambda's arm64 zip: its handler, compiled hot path included, runs on Debian's arm64
# CPython under qemu-user and answers byte-for-byte as this machine's x86_64 build and the pure-Python path do.
# Usage: tools/arm64_check/run.sh [WORKDIR]   (default: .build/arm64-check in the repo). Exits 1 on a mismatch.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=$(mkdir -p "${1:-$REPO/.build/arm64-check}" && cd "${1:-$REPO/.build/arm64-check}" && pwd)
PY=$REPO/.venv/bin/python
HOST_RUNTIME=$("$PY" -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
ARM_RUNTIME=python3.13  # the Debian interpreter that setup_tools.sh pins
QEMU=("$WORK/qemu/usr/bin/qemu-aarch64" -L "$WORK/sysroot" "$WORK/sysroot/usr/bin/python3.13")

echo "== tools"
"$HERE/setup_tools.sh" "$WORK"
"${QEMU[0]}" --version | head -1
"${QEMU[@]}" -S -c 'import sys, platform; print("arm64 python", sys.version.split()[0], platform.machine())'

echo "== packages and events"
cd "$REPO"
"$PY" "$HERE/prepare.py" package "$ARM_RUNTIME" arm64 "$WORK/pkg-arm64"
"$PY" "$HERE/prepare.py" package "$HOST_RUNTIME" x86_64 "$WORK/pkg-x86_64"
"$PY" "$HERE/prepare.py" events 5000 7 "$WORK/events.json"
sha256sum transform_lambda/_hotpath.c

echo "== driver, four ways"  # -S: no site-packages, only the package folder and the stdlib
mkdir -p "$WORK/out"
"$PY" -S "$HERE/driver.py" "$WORK/pkg-x86_64" "$WORK/events.json" "$WORK/out/x86_64-compiled.json"
"$PY" -S "$HERE/driver.py" "$WORK/pkg-x86_64" "$WORK/events.json" "$WORK/out/x86_64-pure.json" --pure
"${QEMU[@]}" -S "$HERE/driver.py" "$WORK/pkg-arm64" "$WORK/events.json" "$WORK/out/arm64-compiled.json"
"${QEMU[@]}" -S "$HERE/driver.py" "$WORK/pkg-arm64" "$WORK/events.json" "$WORK/out/arm64-pure.json" --pure

echo "== compare"
"$PY" "$HERE/compare.py" "$WORK"/out/{x86_64-pure,x86_64-compiled,arm64-compiled,arm64-pure}.json
echo "arm64 check passed in ${SECONDS}s"
