#!/usr/bin/env bash
# Regenerates the dashboard screenshots of the README (docs/screenshots/*.png:
# 1400 px, 400 px, dark mode) by running the page's control test
# (tests/e2e/dashboard_page.sh: a real master serve, real workers, Debian's
# chromium) with SHOTS=docs/screenshots. Uses the release build in bin/
# (NC_BIN overrides). `make screenshots` runs it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export NC_BIN=${NC_BIN:-$ROOT/bin}
export SHOTS=$ROOT/docs/screenshots
mkdir -p "$SHOTS"
tests/e2e/dashboard_page.sh
# the 400 px view of a run with a long error is a test artifact, not a picture for the README
mv -f "$SHOTS/dashboard-400-run.png" "$ROOT/tests/artifacts/" 2>/dev/null || true
ls -l "$SHOTS"/dashboard-1400.png "$SHOTS"/dashboard-400.png "$SHOTS"/dashboard-dark.png
