# Sourced by scripts/run and scripts/test: make sure .venv exists and is current.
#
# The environment is rebuilt only when its inputs change (pyproject.toml, the Python
# version), so repeated runs start in seconds; torch and its CUDA wheels are several GB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WORKBENCH_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "Workbench needs Python 3.10 or newer; set PYTHON=/path/to/python3.x" >&2
    exit 1
fi

stamp_of_inputs() {
    { cat "$ROOT/pyproject.toml"; "$PY" -c 'import sys; print(sys.version)'; } \
        | sha256sum | cut -d' ' -f1
}

want="$(stamp_of_inputs)"
have="$(cat "$VENV/.workbench-stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/python" ]; then
    echo "Setting up $VENV (first run, or pyproject.toml changed; torch is large: a few minutes)" >&2
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # torchvision decides the torch build (they must be a matched pair); do not pin torch.
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
    echo "$want" > "$VENV/.workbench-stamp"
fi
