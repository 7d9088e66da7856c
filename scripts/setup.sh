#!/usr/bin/env bash
# Set up (or update) the project's virtual environment in .venv. Safe to re-run.
#   bash scripts/setup.sh          the tool
#   bash scripts/setup.sh --test   the tool and the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

# torch first and pinned: a CPU wheel of 2.13.0 is on local disk; an unpinned torch
# would pull a multi-GB CUDA build.
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  pip install "torch==2.13.0"
fi
pip install -e ".${extras}"
echo "miner is set up in .venv ($(.venv/bin/miner --help >/dev/null && echo ok))" >&2
