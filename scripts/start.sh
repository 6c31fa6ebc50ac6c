#!/usr/bin/env bash
# Set everything up (first run: a few minutes) and start Empathica on the offline defaults.
# Extra arguments go to `empathica serve`, e.g. scripts/start.sh --host 0.0.0.0 --port 8765
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
export OMP_WAIT_POLICY=PASSIVE
exec "${EMPATHICA_VENV:-$ROOT/.venv}/bin/empathica" serve "$@"
