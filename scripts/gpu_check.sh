#!/usr/bin/env bash
# One-shot check of Workbench's CUDA paths on a machine with an NVIDIA GPU, in under 8 minutes
# (issue 18, "The GPU"): AMP, channels-last, pinned memory, the batch-wise augmentation on
# the device, the feature cache, NCCL/DDP, and throughput against the GPU's compute limit.
#
#   scripts/gpu_check.sh              on the GPU machine
#   scripts/gpu_check.sh --dry-run    (or GPU_CHECK_DRY_RUN=1) on a CPU-only machine: the
#                                     same steps on the CPU, tiny sizes, no nvidia-smi, Gloo
#                                     instead of NCCL, twice the time limits (a check of
#                                     this script's logic, not of any speed)
#
# Steps, each under `timeout` (a hang costs that step only) and clamped to what is left of
# the whole budget (GPU_CHECK_BUDGET, 455 s); a failing step does not stop the next:
#   env          nvidia-smi; Python, torch, CUDA, cuDNN, NCCL versions; a matmul on the GPU
#   gpu_tests    pytest tests/core/test_gpu.py (AMP bf16/fp16/off, channels-last, pinned
#                batches, augmentation GPU vs CPU, feature cache, bundle -> CPU predict,
#                out-of-memory translation, NCCL process group + DDP in one process)
#   bench        scripts/bench_gpu.py: resnet18 at 224 px (AMP bf16, channels-last) and
#                seed-cnn at 64 px through the Trainer vs the in-memory compute limit;
#                images/s, workbench/limit (target >= 0.90 for resnet18), GPU utilisation
#   torchrun_data  a generated folder and `workbench init --preset seed-cnn` on it
#   torchrun_1gpu  torchrun --standalone --nproc_per_node=1 -m workbench train EXP --out RUN
#                (as the README documents; with one process this is the ordinary run path)
#   torchrun_dist  the same, but the job of one is made to take the distributed path, so
#                the NCCL process group, DDP and the all-reduces run through the CLI
#   core_tests   pytest tests/core -k "cuda or gpu or device or distributed or ..." (the
#                existing tests about devices, distributed runs, memory, features, AMP)
# Outputs (logs, bench_gpu.json, summary) go to ${OUT:-/tmp/gpu_check}; data and run
# folders go to a scratch folder under /tmp that is not kept.
#
# Python: $WORKBENCH_PYTHON, else .venv/bin/python (as scripts/test uses; it is not rebuilt
# here: the GPU machine has no internet access).
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DRY="${GPU_CHECK_DRY_RUN:-0}"
[ "${1:-}" = "--dry-run" ] && DRY=1
OUTDIR="${OUT:-/tmp/gpu_check}"
mkdir -p "$OUTDIR"
# The dry run is a check of the logic on a CPU, whose speed says nothing: twice the time.
SCALE=1
[ "$DRY" = 1 ] && SCALE=2
BUDGET="${GPU_CHECK_BUDGET:-$((455 * SCALE))}"
START=$SECONDS
LOG="$OUTDIR/gpu_check.log"
: > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }

PY="${WORKBENCH_PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x "$PY" ]; then
    # The lent GPU machines have no internet and .venv (several GB) cannot travel to them,
    # but their plain python3 holds a CUDA torch, torchvision, numpy, Pillow and pytest
    # (/work/.library/device/KINDS.md): use it rather than spend a start on a hint.
    if [ -z "${WORKBENCH_PYTHON:-}" ] && command -v python3 >/dev/null \
        && python3 -c 'import torch, torchvision, numpy, PIL, pytest' 2>/dev/null; then
        say "gpu_check: no .venv here; python3 imports torch, torchvision, numpy, Pillow and"
        say "pytest, so it is used ($(command -v python3))"
        PY="$(command -v python3)"
    else
        say "gpu_check: no Python at $PY. This script only uses an existing environment (the"
        say "GPU machine has no internet access): carry over .venv (see scripts/_env.sh, which"
        say "builds it) or set WORKBENCH_PYTHON to a Python with torch (CUDA build) and this"
        say "checkout's dependencies installed."
        exit 3
    fi
fi
if ! "$PY" -c 'import torch, torchvision, workbench' >>"$LOG" 2>&1; then
    say "gpu_check: $PY cannot import torch, torchvision and workbench (see $LOG)"
    exit 3
fi
# The same check as scripts/_env.sh, reported only: is .venv as pyproject.toml wants it?
want="$({ cat pyproject.toml; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum)"
have="$(cat "$(dirname "$(dirname "$PY")")/.workbench-stamp" 2>/dev/null || true)"
STAMP="differs from pyproject.toml (used as it is)"
[ "${want%% *}" = "$have" ] && STAMP="matches pyproject.toml"
# pytest-timeout (in the test extras) ends a stuck test; without it only `timeout` does.
PYTEST_TIMEOUT=()
"$PY" -c 'import pytest_timeout' 2>/dev/null && PYTEST_TIMEOUT=(--timeout 60)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check_work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export WORKBENCH_HOME="$WORK/home" QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if [ "$DRY" = 1 ]; then
    DEVICE=cpu; BENCH_ARGS=(--device cpu --small); TEST_ENV=(WORKBENCH_GPU_TEST_DEVICE=cpu)
    DATA_IMAGES=300
else
    DEVICE=cuda; BENCH_ARGS=(); TEST_ENV=(); DATA_IMAGES=2000
fi
# What the steps run as functions (in a bash of their own, under timeout) need from here.
export DRY PY DEVICE WORK OUTDIR DATA_IMAGES
say "gpu_check $(date -u +%FT%TZ) dry_run=$DRY python=$PY (venv $STAMP) out=$OUTDIR"
say "budget ${BUDGET}s; scratch $WORK"

NAMES=(); RCS=(); SECS=()
N=0
# step NAME TIMEOUT_S TAIL_LINES COMMAND...: run it under timeout, its output to its own log
# (the last TAIL_LINES lines echoed here), and record rc and seconds for the summary.
step() {
    local name=$1 limit=$(($2 * SCALE)) tail_n=$3; shift 3
    N=$((N + 1))
    local file; file="$OUTDIR/$(printf %02d "$N")_$name.log"
    local left=$((BUDGET - (SECONDS - START) - 10))  # 10 s: timeout's kill grace
    if [ "$left" -lt 5 ]; then
        say "== [$name] skipped: the ${BUDGET}s budget is spent"
        NAMES+=("$name"); RCS+=("skip"); SECS+=(0); return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    say "== [$name] timeout ${limit}s, log $file"
    local t0=$SECONDS
    if declare -F "$1" >/dev/null; then  # a function of this script: in a bash of its own
        timeout -k 10 "$limit" bash -c '"$@"' step "$@" > "$file" 2>&1
    else
        timeout -k 10 "$limit" "$@" > "$file" 2>&1
    fi
    local rc=$?
    local took=$((SECONDS - t0))
    tail -n "$tail_n" "$file" | sed 's/^/   | /' | cut -c1-220 | tee -a "$LOG"
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && say "   -> TIMED OUT after ${took}s (rc $rc)"
    say "   -> [$name] rc $rc in ${took}s"
    NAMES+=("$name"); RCS+=("$rc"); SECS+=("$took")
}

# -- env ----------------------------------------------------------------------------------
env_info() {
    if [ "$DRY" = 1 ]; then
        echo "dry run: nvidia-smi skipped"
    elif command -v nvidia-smi >/dev/null; then
        nvidia-smi
        nvidia-smi --format=csv --query-gpu=name,driver_version,memory.total,persistence_mode,\
clocks.max.sm,power.limit
    else
        echo "nvidia-smi: not found"
    fi
    "$PY" - "$DEVICE" <<'PY'
import platform, sys
from importlib.metadata import version
import torch
names = ["torch", "torchvision", "numpy", "Pillow", "pytest"]
print("python", platform.python_version(), "|", ", ".join(f"{n} {version(n)}" for n in names))
print("torch CUDA build", torch.version.cuda, "| cuda available", torch.cuda.is_available(),
      "| devices", torch.cuda.device_count(), "| cpus", __import__("os").cpu_count())
if torch.cuda.is_available():
    import torch.distributed as dist
    p = torch.cuda.get_device_properties(0)
    print(f"gpu0 {p.name}, {p.total_memory / 2**30:.1f} GiB, capability {p.major}.{p.minor}, "
          f"bf16 {torch.cuda.is_bf16_supported()}, cudnn {torch.backends.cudnn.version()}, "
          f"nccl available {dist.is_nccl_available()} version {torch.cuda.nccl.version()}")
    x = torch.randn(2048, 2048, device="cuda")
    print("matmul on the GPU:", float((x @ x).float().abs().mean()))
elif sys.argv[1] == "cuda":
    sys.exit("no CUDA GPU visible to torch: the GPU steps will be skipped or fail")
PY
}
export -f env_info
step env 15 12 env_info

# -- the GPU tests ----------------------------------------------------------------------------
# As scripts/test runs the core tests: Qt blocked, pytest-qt off.
PYTEST=("$PY" -m pytest -p no:cacheprovider -p no:pytest-qt)
PYTEST+=(${PYTEST_TIMEOUT[@]+"${PYTEST_TIMEOUT[@]}"})
step gpu_tests 100 25 env ${TEST_ENV[@]+"${TEST_ENV[@]}"} WORKBENCH_BLOCK_QT=1 "${PYTEST[@]}" \
    tests/core/test_gpu.py -rs -v --durations 8

# -- throughput -------------------------------------------------------------------------------
step bench 170 32 "$PY" scripts/bench_gpu.py ${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"} \
    --data-dir "$WORK/bench" --json "$OUTDIR/bench_gpu.json"

# -- torchrun ---------------------------------------------------------------------------------
export EXP="$OUTDIR/torchrun_experiment.json"
torchrun_data() {
    "$PY" scripts/bench_gpu.py --generate "$WORK/tr_data" --images "$DATA_IMAGES" --side 64 &&
        "$PY" -m workbench init --preset seed-cnn --data "$WORK/tr_data" -o "$EXP" --overwrite
}
export -f torchrun_data
step torchrun_data 20 4 torchrun_data

# torchrun is `python -m torch.distributed.run`: the venv's own console scripts carry the
# path of the machine that built it in their first line.
torchrun_1gpu() {
    "$PY" -m torch.distributed.run --standalone --nproc_per_node=1 -m workbench train "$EXP" \
        --out "$WORK/run_1gpu" --epochs 2 --batch-size 64 --device "$DEVICE" || return
    test -f "$WORK/run_1gpu/bundle.pt" || { echo "no bundle.pt written"; return 1; }
    cp "$WORK/run_1gpu/metrics.json" "$WORK/run_1gpu/run.json" "$OUTDIR/" 2>/dev/null
    local out  # the bundle, trained on the GPU, predicting on the CPU
    out="$("$PY" -m workbench predict "$WORK/run_1gpu/bundle.pt" "$WORK/tr_data/class_3" \
        --top-k 1 2>&1)" || { echo "$out"; return 1; }
    echo "predict on the CPU, 3 of $(echo "$out" | wc -l) lines:"
    echo "$out" | tail -n 3
}
export -f torchrun_1gpu
step torchrun_1gpu 40 12 torchrun_1gpu

# A job of one takes the single-process path (WORLD_SIZE 1). This launcher makes it take the
# distributed one (NCCL on CUDA, Gloo on the CPU; DDP; all-reduced metrics), then runs the
# ordinary CLI, so `workbench train` is checked end to end on this GPU's NCCL.
cat > "$WORK/dist_train.py" <<'PY'
import sys

from workbench.core.train.distributed import DistributedContext

DistributedContext.active = property(lambda self: True)
_init = DistributedContext.init


def init(self, device):
    device = _init(self, device)
    print(f"[gpu_check] process group {self.backend}, rank {self.rank} of {self.world_size}, "
          f"device {device}", flush=True)
    return device


DistributedContext.init = init
from workbench.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
PY
torchrun_dist() {
    local want=nccl rc
    [ "$DEVICE" = cpu ] && want=gloo
    "$PY" -m torch.distributed.run --standalone --nproc_per_node=1 "$WORK/dist_train.py" \
        train "$EXP" --out "$WORK/run_dist" --epochs 2 --batch-size 64 --device "$DEVICE" \
        2>&1 | tee "$WORK/run_dist.log"
    rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || return "$rc"
    grep -q "process group $want" "$WORK/run_dist.log" || { echo "not on $want"; return 1; }
    grep -q "x 1 processes" "$WORK/run_dist.log" || { echo "not the distributed path"; return 1; }
    test -f "$WORK/run_dist/bundle.pt" || { echo "no bundle.pt written"; return 1; }
    echo "checked: process group $want, the distributed path, bundle.pt written"
}
export -f torchrun_dist
step torchrun_dist 40 12 torchrun_dist

# -- the existing tests about devices, distributed runs, memory, AMP --------------------------
# (test_gpu.py ran above; its test_cuda_* names would match again.)
KEYWORDS="cuda or gpu or device or distributed or torchrun or out_of_memory or feature_cache"
KEYWORDS="$KEYWORDS or features or amp or channels_last"
step core_tests 70 12 env WORKBENCH_BLOCK_QT=1 "${PYTEST[@]}" tests/core \
    --ignore=tests/core/test_gpu.py -q -rs -k "$KEYWORDS"

# -- summary ----------------------------------------------------------------------------------
failed=0
summary() {
    local bench_log
    bench_log="$(ls "$OUTDIR"/*_bench.log 2>/dev/null | head -n 1)"
    echo
    echo "== bench figures (full output: ${bench_log:-none})"
    local figures="^== |workbench/limit|^   (workbench|limit) +[0-9]|^   run |^   used:|^summary"
    [ -n "$bench_log" ] && grep -E "$figures|FAILED|failed runs" "$bench_log" | cut -c1-200
    echo
    echo "== summary (dry_run=$DRY, total $((SECONDS - START))s of ${BUDGET}s)"
    printf '   %-14s %6s %6s  %s\n' step rc secs status
    local i rc status
    for i in "${!NAMES[@]}"; do
        rc=${RCS[$i]}
        case "$rc" in
            0) status=ok ;;
            skip) status="skipped (budget spent)" ;;
            124 | 137) status="TIMED OUT" ;;
            *) status=FAILED ;;
        esac
        printf '   %-14s %6s %6s  %s\n' "${NAMES[$i]}" "$rc" "${SECS[$i]}" "$status"
    done
    echo "outputs in $OUTDIR:"
    ls -1 "$OUTDIR" | sed 's/^/   /'
}
for rc in "${RCS[@]}"; do [ "$rc" = 0 ] || failed=1; done
summary > "$OUTDIR/summary.txt" 2>&1
tee -a "$LOG" < "$OUTDIR/summary.txt"
exit "$failed"
