#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the whole test suite on cuda (and cpu), then the GPU
# benchmarks, in a fresh virtual environment; a summary table at the end.
#
#   ci/gpu.sh                                   # cupy-cuda12x, from the [cuda] extra
#   AUTODIFF_CUPY=cupy-cuda13x ci/gpu.sh        # another CuPy wheel (a CUDA 13 driver)
#   AUTODIFF_CI_VENV=/tmp/venv ci/gpu.sh        # reuse a virtual environment
#
# Exit status: 0 when the tests pass and the benchmarks run.
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${AUTODIFF_CI_VENV:-$(mktemp -d)/venv}"
logs="$(mktemp -d)"

python3 -m venv "$venv" || exit 1
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip || exit 1
if [[ -n "${AUTODIFF_CUPY:-}" ]]; then
    pip install --quiet -e ".[test]" "$AUTODIFF_CUPY" || exit 1
else
    pip install --quiet -e ".[test,cuda]" || exit 1
fi

echo "== GPU"
command -v nvidia-smi >/dev/null && nvidia-smi -L
python - <<'EOF' || { echo "no usable CUDA GPU: nothing to test here" >&2; exit 1; }
import cupy
import autodiff
print(f"CuPy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, "
      f"{autodiff.cuda.device_count()} device(s)")
autodiff.zeros(1, device="cuda")  # raises the backend's message when CUDA is unusable
print(f"cuda:{autodiff.cuda.current_device()}: {autodiff.cuda.get_device_name()}")
EOF

echo "== pytest --device cuda --device cpu"
python -m pytest tests --device cuda --device cpu -rs 2>&1 | tee "$logs/pytest.log"
tests_status=${PIPESTATUS[0]}

# Zero-copy interop on the GPU, as its own line in the summary: CuPy <-> autodiff through DLPack
# (tests/test_dlpack.py's device-generic tests, run on cuda).
echo "== pytest tests/test_dlpack.py --device cuda"
python -m pytest tests/test_dlpack.py --device cuda -rs 2>&1 | tee "$logs/dlpack.log"
dlpack_status=${PIPESTATUS[0]}

echo "== python -m bench --device cuda"
python -m bench --device cuda 2>&1 | tee "$logs/bench.log"
bench_status=${PIPESTATUS[0]}

# Kernels CuPy could not fuse run unfused, with a warning: list them.
fallbacks=$(grep -ho "cupy.fuse could not compile kernel '[a-z_]*'" "$logs"/*.log | sort -u)

summary() {  # the last pytest line that has counts in it
    grep -E "[0-9]+ (passed|failed|error)" "$logs/pytest.log" | tail -1 | sed 's/=//g; s/^ *//'
}
echo
echo "== summary"
printf '%-36s %-8s %s\n' "step" "status" "detail"
printf '%-36s %-8s %s\n' "pytest --device cuda --device cpu" \
    "$([[ $tests_status == 0 ]] && echo ok || echo FAILED)" "$(summary)"
printf '%-36s %-8s %s\n' "pytest tests/test_dlpack.py (cuda)" \
    "$([[ $dlpack_status == 0 ]] && echo ok || echo FAILED)" \
    "$(grep -E "[0-9]+ (passed|failed|error)" "$logs/dlpack.log" | tail -1 | sed 's/=//g; s/^ *//')"
printf '%-36s %-8s %s\n' "python -m bench --device cuda" \
    "$([[ $bench_status == 0 ]] && echo ok || echo FAILED)" "exit $bench_status (table above)"
printf '%-36s %-8s %s\n' "fused kernels" "$([[ -z $fallbacks ]] && echo ok || echo SLOW)" \
    "${fallbacks:-all compiled}"
[[ $tests_status == 0 && $dlpack_status == 0 && $bench_status == 0 ]]
