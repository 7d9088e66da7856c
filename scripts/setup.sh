#!/usr/bin/env bash
# Set up (or update) the project's virtual environment in .venv. Safe to re-run.
#   bash scripts/setup.sh          the tool
#   bash scripts/setup.sh --test   the tool and the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=""
[ "${1:-}" = "--test" ] && extras="[test,ray]"  # ray: the --engine ray tests run in CI too

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

# torch first and pinned: a CPU wheel of 2.13.0 is on local disk; an unpinned torch
# would pull a multi-GB CUDA build.
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  pip install "torch==2.13.0"
fi
pip install -e ".${extras}"
# The browser tests drive Debian's chromium through Playwright (Playwright's own browser
# download cannot work offline).
if [ -n "$extras" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: the browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
echo "miner is set up in .venv ($(.venv/bin/miner --help >/dev/null && echo ok))" >&2
