# env.sh: sanitizer options of the pytest run against an instrumented pergil._core (run.sh sources
# it). CPython is not instrumented: only pergil's engine and extension are. ASan, LSan and
# TSan reports are written to $PERGIL_SAN_LOGS/<tool>.<pid>, not to stderr: tests that read a
# child's stderr stay undisturbed, and run.sh fails the run on any report of any process.
# Needs PERGIL_SAN_LOGS (a directory) set before sourcing.
_pergil_san_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ASan: stop at the first error. allocator_may_return_null: a task's huge allocation
# (test_memory_error_from_a_huge_allocation) must fail as malloc does, with NULL and a
# MemoryError, not abort the process; ASan then logs a "failed to allocate" warning only.
# Leaks are checked at exit, as in the engine tests: lsan.supp drops what CPython (and the Tcl
# library that _tkinter loads) keep allocated at exit on purpose; pergil's own blocks stay checked.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:allocator_may_return_null=1:log_path=$PERGIL_SAN_LOGS/asan"
export LSAN_OPTIONS="suppressions=$_pergil_san_dir/lsan.supp:print_suppressions=0"
# UBSan (built with -fno-sanitize-recover): print where, then stop. Its runtime (GCC 12) ignores
# log_path: its reports go to stderr, which run.sh leaves uncaptured in the caller (pytest
# --capture=sys) and which the subprocess tests show on failure.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# TSan: report every race of the run (halt_on_error=0), then exit 66; tsan.supp says why each
# entry is there.
export TSAN_OPTIONS="halt_on_error=0:allocator_may_return_null=1:second_deadlock_stack=1:history_size=4:suppressions=$_pergil_san_dir/tsan.supp:log_path=$PERGIL_SAN_LOGS/tsan"

unset _pergil_san_dir
