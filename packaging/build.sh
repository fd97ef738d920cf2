#!/usr/bin/env bash
# Build the one-folder bundle: dist/kds/kds (plus dist/kds/_internal/).
#
#   packaging/build.sh                 # into ./dist/kds, work files in ./build/pyinstaller
#   KDS_DIST_DIR=/tmp/out KDS_WORK_DIR=/tmp/work packaging/build.sh
#
# PYTHON picks the interpreter (default: the repository's .venv); PyInstaller is installed into it if missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DIST="${KDS_DIST_DIR:-$ROOT/dist}"
WORK="${KDS_WORK_DIR:-$ROOT/build/pyinstaller}"

if ! "$PYTHON" -c 'import PyInstaller' 2>/dev/null; then
    echo "installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install -q 'pyinstaller>=6.10,<7'
fi

start=$(date +%s)
# --clean: never reuse a cached analysis from another source tree or dependency set
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$ROOT/packaging/kds.spec"
elapsed=$(( $(date +%s) - start ))

echo "built $DIST/kds/kds in ${elapsed} s; bundle size $(du -sh "$DIST/kds" | cut -f1)"
