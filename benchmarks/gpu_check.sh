#!/usr/bin/env bash
# CUDA check and CUDA benchmark for a borrowed GPU machine (sized for the H200 device machine:
# at most 8 minutes in all). Run from the repository root:
#
#     bash benchmarks/gpu_check.sh            # results in $OUT if set (the device tool's folder), else ./gpu_check_out
#
# 1. Python. $PYTHON if set; else .venv/bin/python when its torch sees a GPU; else a venv made here,
#    .venv-gpu, from python3 with --system-site-packages, so that it uses the machine's own CUDA
#    build of torch (the H200 image's python3 holds torch 2.11+cu130). neuromorph goes into it
#    without dependencies; snntorch (a pure-Python wheel with no dependencies) from .whl/ when the
#    machine reaches no package registry, as the H200 does not. Carry it from here:
#        .venv/bin/pip download --no-deps --only-binary=:all: -d .whl snntorch==1.0.0    # .whl/ is git-ignored
#    and name ".whl" in the device tool's `carry`. On a machine with internet and no CUDA torch,
#    make the venv yourself first; `pip install torch` from PyPI is the CUDA build on Linux x86-64,
#    else name PyTorch's wheel index of your CUDA version:
#        python3 -m venv .venv-gpu && .venv-gpu/bin/pip install torch   (or PyTorch's wheel index for your CUDA)
#        .venv-gpu/bin/pip install -e . && PYTHON=.venv-gpu/bin/python bash benchmarks/gpu_check.sh
# 2. pytest -q tests/test_cuda.py -m "cuda or not slow" -k cuda: CUDA spike trains equal the CPU's.
# 3. neuromorph bench --device cuda: first the E/I network at N = 100,000 (float32, its own time
#    limit), then every torch case on CUDA (--no-refs: NEST is not installed there) within what is
#    left of the time budget. JSON reports: $OUT/bench_cuda_100k.json, $OUT/bench_cuda.json; the
#    whole log: $OUT/gpu_check.log.
#
# Environment: GPU_CHECK_BUDGET (seconds for everything, default 450), GPU_CHECK_QUICK=1 (tiny sizes).
set -u -o pipefail
OUT="${OUT:-gpu_check_out}"
mkdir -p "$OUT"
BUDGET="${GPU_CHECK_BUDGET:-450}"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 PYNEST_QUIET=1
QUICK=()
[ "${GPU_CHECK_QUICK:-0}" = 1 ] && QUICK=(--quick)
exec > >(tee "$OUT/gpu_check.log") 2>&1
echo "gpu_check: $(date -Is) on $(hostname); budget ${BUDGET} s"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

sees_gpu() { "$1" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; }

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ] && sees_gpu .venv/bin/python; then
        PY=.venv/bin/python
    else
        [ -x .venv-gpu/bin/python ] || python3 -m venv --system-site-packages .venv-gpu || exit 2
        PY=.venv-gpu/bin/python
    fi
fi
if ! "$PY" -c "import snntorch" 2>/dev/null; then
    if ls .whl/snntorch-*.whl >/dev/null 2>&1; then
        "$PY" -m pip install -q --no-index --no-deps .whl/snntorch-*.whl || exit 2
    else
        "$PY" -m pip install -q --no-deps "snntorch==1.0.0" || { echo "gpu_check: snntorch missing; carry .whl/ (see the header)"; exit 2; }
    fi
fi
if ! "$PY" -c "import neuromorph.backends.torch" 2>/dev/null; then
    # offline-safe: no dependencies, no build isolation (setuptools comes from the environment)
    "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 2
fi
"$PY" -c "import torch, neuromorph; print('gpu_check: torch', torch.__version__, '| CUDA', torch.version.cuda, '|',
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'NO GPU visible', '| neuromorph', neuromorph.__version__)"
sees_gpu "$PY" || echo "gpu_check: WARNING: torch sees no GPU; the CUDA tests skip and the CUDA cases are skipped"

echo; echo "== 1/3 pytest tests/test_cuda.py (limit 150 s)"
timeout 150 "$PY" -m pytest -q tests/test_cuda.py -m "cuda or not slow" -k cuda -p no:cacheprovider
echo "pytest exit code: $?"

left() { echo $(( BUDGET - SECONDS )); }
echo; echo "== 2/3 bench: E/I network at N = 100,000 on CUDA (limit 170 s; $(left) s left)"
"$PY" -m neuromorph bench --device cuda --only ei-cuda --no-refs --repeats 2 --timeout "$(( $(left) < 170 ? $(left) : 170 ))" \
    "${QUICK[@]}" --json "$OUT/bench_cuda_100k.json"
echo "bench exit code: $?"

REM=$(( $(left) - 15 ))
echo; echo "== 3/3 bench: every torch case on CUDA (budget ${REM} s)"
if [ "$REM" -gt 30 ]; then
    "$PY" -m neuromorph bench --device cuda --only ei/torch,delays/torch,dt0.1/torch,demo/torch,stdp-curve/torch,train/,cam/,spatial/ \
        --no-refs --repeats 2 --timeout 90 --budget "$REM" "${QUICK[@]}" --json "$OUT/bench_cuda.json"
    echo "bench exit code: $?"
else
    echo "skipped: too little of the budget left"
fi
echo "gpu_check: done in ${SECONDS} s"
