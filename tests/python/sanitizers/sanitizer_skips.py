"""sanitizer_skips.py: pytest plugin of the sanitizer pytest run (run.sh loads it with -p): skips,
with their reasons, the few tests that cannot work under a sanitizer. Nothing else loads it."""

import os

import pytest

# (nodeid prefix, flavours it applies to, reason). Keep it short: each entry is a test that
# cannot pass under that sanitizer whatever pergil does, never a test that found a bug.
SKIPS = [
    ("tests/python/test_faults.py::test_fork_in_the_caller[alive-", {"address"},
     "the fork child dies in CPython's after-fork clean-up by design (gh-101437); ASan's SEGV "
     "handler turns that signal death into a report and exit 1"),
    ("tests/python/test_faults.py::test_fork_in_the_caller[", {"thread"},
     "TSan kills a child that starts threads after a fork of a multi-threaded process "
     "(die_after_fork), and the alive case's child dies in CPython's clean-up (gh-101437)"),
    ("tests/python/test_transfer.py::test_trim_heap_returns_free_pages_inside_the_heap",
     {"address", "thread"},
     "the sanitizer's allocator replaces glibc's malloc, so malloc_trim has no heap to trim"),
]


def pytest_collection_modifyitems(config, items):
    flavour = os.environ.get("PERGIL_SANITIZER", "")
    for item in items:
        for prefix, flavours, reason in SKIPS:
            if flavour in flavours and item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.skip(reason=f"under {flavour} sanitizer: {reason}"))
