# env.sh: sanitizer options for pergil's C++ tests; source it before building and running a
# sanitizer build (`cmake -DPERGIL_SANITIZE=address|thread`): test discovery runs the binaries.
#   source tests/cpp/sanitizers/env.sh && cmake --build build-asan -j2 && ctest --test-dir build-asan
# CPython itself is not instrumented: only the engine, the API and the tests are.
_pergil_sanitizers=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ASan: stop at the first error. Leak checking stays on for memory the engine, the API and the
# tests allocate themselves; lsan.supp drops blocks allocated inside libpython, because CPython
# leaves some allocated at exit on purpose (its reasons are in that file).
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$_pergil_sanitizers/lsan.supp:print_suppressions=0"
# UBSan (built with -fno-sanitize-recover): print where, then stop.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# TSan: every report fails the test (exit code 66 at exit); tsan.supp says why it is empty.
export TSAN_OPTIONS="suppressions=$_pergil_sanitizers/tsan.supp:second_deadlock_stack=1:history_size=4"

unset _pergil_sanitizers
