#!/usr/bin/env bash
# Installs what NetCompute needs on Debian 12, and nothing that is already there.
#   scripts/deps.sh build   compilers and the six libraries
#   scripts/deps.sh test    + cmocka, clang (libFuzzer), liblinear-tools, data set,
#                             Node.js + npm packages, Chromium
#   scripts/deps.sh demo    + data set and the page's charting library
#   scripts/deps.sh bench   + liblinear-tools, data set, iproute2 (netns, netem)
#   scripts/deps.sh soak    + iproute2 (netns, tc), curl, jq
set -eu
mode=${1:-build}
cd "$(dirname "$0")/.."

pkgs=(gcc make pkg-config libzmq3-dev liblinear-dev libcsv-dev libjson-c-dev
      libwebsockets-dev libsqlite3-dev)
need_npm=0
case "$mode" in
build) ;;
test) pkgs+=(libcmocka-dev clang libclang-rt-14-dev clang-format cppcheck liblinear-tools dataset-fashion-mnist fortunes time
             nodejs npm chromium iproute2 sqlite3 procps curl python3)
      need_npm=1 ;;
demo) pkgs+=(dataset-fashion-mnist nodejs npm); need_npm=1 ;;
soak) pkgs+=(iproute2 curl jq procps) ;;
bench) pkgs+=(liblinear-tools dataset-fashion-mnist time iproute2 procps nodejs npm); need_npm=1 ;;
*) echo "deps.sh: unknown mode '$mode' (build, test, demo, bench or soak)" >&2; exit 2 ;;
esac

# Node.js, npm and Chromium may come from elsewhere than Debian (nodesource,
# a snap): a working command is as good as the package.
has_cmd() {
    case "$1" in
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    chromium) command -v chromium >/dev/null ;;
    *) return 1 ;;
    esac
}
missing=()
for p in "${pkgs[@]}"; do
    has_cmd "$p" && continue
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps.sh: missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 2
    fi
    echo "deps.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$need_npm" = 1 ]; then
    if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
        echo "deps.sh: installing npm packages (package-lock.json)"
        if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error >/dev/null
        else npm install --no-audit --no-fund --loglevel=error >/dev/null; fi
    fi
    mkdir -p dashboard/web/vendor
    for f in node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css \
             node_modules/socket.io-client/dist/socket.io.min.js; do
        [ -f "$f" ] && cp -f "$f" dashboard/web/vendor/
    done
fi
exit 0
