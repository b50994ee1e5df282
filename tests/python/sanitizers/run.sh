#!/usr/bin/env bash
# run.sh: the pytest fault matrix against a sanitizer build of pergil._core, in an uninstrumented
# CPython that loads the sanitizer runtime through LD_PRELOAD.
#   bash tests/python/sanitizers/run.sh address|thread [PYTHON [PYTEST ARGS...]]
# PYTEST ARGS, if given, replace the default selection (e.g. tests/python/test_cancel.py -x).
# PYTHON (default python3) must have pytest, pytest-timeout and cloudpickle; cmake and ninja are
# taken from its bin directory or PATH. The build goes to $PERGIL_SAN_WORK (default
# /tmp/pergil-san-<flavour>-<python version>): the extension is built there and staged with a
# copy of python/pergil, which goes first on PYTHONPATH (an installed pergil is shadowed, in the
# caller, its workers and its subprocesses alike). Fails on any failed test, on any sanitizer
# report of any process of the run, and if no test ran. If PERGIL_SAN_SUMMARY names a file, the
# count line is written there too.
set -euo pipefail

FLAVOUR=${1:-}
PYTHON=${2:-python3}
shift $(($# < 2 ? $# : 2))
case $FLAVOUR in
  address) RUNTIME=libasan.so ;;
  thread) RUNTIME=libtsan.so ;;
  *) echo "usage: $0 address|thread [python [pytest args...]]" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PYTHON=$(command -v "$PYTHON")
PYVER=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
WORK=${PERGIL_SAN_WORK:-/tmp/pergil-san-$FLAVOUR-$PYVER}
JOBS=${PERGIL_SAN_JOBS:-2}

# The fault matrix: failures, cancels, interrupts, Ctrl-C and exit, each in the caller and in
# fresh processes (~300 tests), plus the data transfers across interpreters (test_data.py),
# where memory errors would live: all of them under ASan; under TSan, where a pool start costs
# ~0.4 s, the tests of buffers handed between threads (loans, their release, buffer arguments)
# but not the ~200 value and type round trips, which take the same path and 2 more minutes.
TESTS=(test_faults.py test_cancel.py test_errors.py test_sigint.py test_exit.py)
if [[ $FLAVOUR == address ]]; then
  # Under ASan also the page moves of big results (test_transfer.py, ~40 s; under TSan their
  # 32-64 MiB comparisons take minutes) and the cached function references.
  TESTS+=(test_data.py test_transfer.py test_function_refs.py)
else
  for test in test_memoryview_result_is_a_zero_copy_read_only_loan \
    test_memoryview_result_outlives_the_executor \
    test_bytearray_argument_is_released_when_its_future_is_done \
    test_buffer_arguments_arrive_intact test_buffers_inside_containers; do
    TESTS+=("test_data.py::$test")
  done
fi
TESTS=("${TESTS[@]/#/tests/python/}")
(($# == 0)) || TESTS=("$@")

export PATH="$(dirname "$PYTHON"):$PATH"  # the venv's cmake and ninja, if it has them
CXX=$(command -v "${CXX:-g++}")
# The runtime of the compiler that builds the module; libstdc++ too, loaded before the
# interpreter starts, or ASan cannot find the real __cxa_throw (CPython does not link it, so
# it is not loaded when ASan starts) and aborts at pergil's first C++ throw.
PRELOAD="$("$CXX" -print-file-name=$RUNTIME) $("$CXX" -print-file-name=libstdc++.so)"
for lib in $PRELOAD; do
  [[ -f $lib ]] || { echo "$CXX has no $lib (a sanitizer runtime is missing)" >&2; exit 1; }
done
command -v cmake >/dev/null || { echo "cmake not found (pip install cmake)" >&2; exit 1; }
GENERATOR=("-G" "Unix Makefiles")
command -v ninja >/dev/null && GENERATOR=("-G" "Ninja")

echo "== building pergil._core, $FLAVOUR sanitizer, Python $PYVER, in $WORK"
cmake -S "$REPO" -B "$WORK/build" "${GENERATOR[@]}" -DCMAKE_CXX_COMPILER="$CXX" \
  -DPERGIL_BUILD_PYTHON=ON -DPERGIL_BUILD_TESTS=OFF -DPERGIL_BUILD_API=OFF \
  -DPERGIL_BUILD_EXAMPLES=OFF -DPERGIL_SANITIZE="$FLAVOUR" -DPython_EXECUTABLE="$PYTHON" >/dev/null
cmake --build "$WORK/build" -j"$JOBS"
STAGE=$WORK/stage
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -r "$REPO/python/pergil" "$STAGE/"
cp "$WORK"/build/_core*.so "$STAGE/pergil/"

LOGS=$WORK/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
export PERGIL_SAN_LOGS=$LOGS PERGIL_SANITIZER=$FLAVOUR
# shellcheck disable=SC1091
source "$HERE/env.sh"
export LD_PRELOAD=$PRELOAD
export PYTHONPATH="$STAGE:$HERE${PYTHONPATH:+:$PYTHONPATH}"

# Any sanitizer output, from the caller or from any process it started, is a report, but for
# the warnings of the huge-allocation test (allocator_may_return_null), which are expected.
# Prints each report; sets $reports to their files.
show_reports() {
  reports=""
  local log
  for log in "$LOGS"/*; do
    [[ -f $log ]] || continue
    grep -vqE '^==[0-9]+==WARNING: [A-Za-z]+Sanitizer failed to allocate 0x[0-9a-f]+ bytes$' "$log" &&
      reports+=" $log"
  done
  for log in $reports; do
    echo "==================== sanitizer report: $log" >&2
    cat "$log" >&2
  done
}

early_failure() {
  local summary="the staged pergil failed before pytest; $(wc -w <<<"$reports") sanitizer report(s)"
  echo "== $FLAVOUR: $summary" >&2
  [[ -z ${PERGIL_SAN_SUMMARY:-} ]] || echo "$summary" >"$PERGIL_SAN_SUMMARY"
  exit 1
}

# The staged package is the one the caller and a worker import, not an installed one.
"$PYTHON" - "$STAGE" <<'EOF' || { show_reports; early_failure; }
import sys, pergil, pergil._core as core
stage = sys.argv[1]
assert core.__file__.startswith(stage + "/"), f"pergil._core loaded from {core.__file__}"
with pergil.InterpreterPoolExecutor(max_workers=1) as pool:
    where = pool.submit(eval, "__import__('pergil').__file__").result()
assert where.startswith(stage + "/"), f"a worker imported pergil from {where}"
print("== pergil._core under test:", core.__file__)
EOF

JUNIT=$WORK/pytest.xml
rm -f "$JUNIT"
cd "$REPO"
rc=0
# --capture=sys: what the caller's C code writes to fd 2 (a UBSan report, which then stops the
# process) reaches the log instead of a capture file that dies with the process.
"$PYTHON" -m pytest -p no:cacheprovider -p sanitizer_skips -m "not slow" -q -rs --capture=sys \
  --junitxml="$JUNIT" "${TESTS[@]}" || rc=$?

show_reports
counts=(0 0 0)
if [[ -f $JUNIT ]]; then
  read -r -a counts < <("$PYTHON" - "$JUNIT" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
count = lambda *keys: sum(int(s.get(k, 0)) for s in suites for k in keys)
print(count("tests"), count("skipped"), count("failures", "errors"))
EOF
  )
fi
total=${counts[0]} skipped=${counts[1]} bad=${counts[2]}
nreports=$(wc -w <<<"$reports")
summary="pytest exit $rc: $total tests, $((total - skipped - bad)) passed, $skipped skipped,"
summary+=" $bad failed or errors; $nreports sanitizer report(s)"
[[ -f $JUNIT ]] || summary="pytest exit $rc, died before its report (a UBSan report or a crash:"
[[ -f $JUNIT ]] || summary+=" see the log); $nreports sanitizer report(s)"
echo "== $FLAVOUR: $summary"
[[ -z ${PERGIL_SAN_SUMMARY:-} ]] || echo "$summary" >"$PERGIL_SAN_SUMMARY"
((nreports == 0)) || exit 1
((rc == 0)) || exit "$rc"
((total > skipped)) || { echo "no test ran" >&2; exit 1; }
