"""support.py: test-side helpers (run in the caller only): subprocesses, skips, buffer addresses."""

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = TESTS_DIR / "scripts"
WORKER_COUNTS = (1, 2, 4)

# CPython 3.12.1 aborts in Py_FinalizeEx after a sub-interpreter imported asyncio or called
# ssl.create_default_context() (the keyword calls of pickle, hashlib and queue.SimpleQueue, which
# a ThreadPoolExecutor makes, are made in the main interpreter first, which avoids it).
GH_119213 = sys.version_info[:3] == (3, 12, 1)
skip_gh119213 = pytest.mark.skipif(
    GH_119213,
    reason="CPython 3.12.1 bug gh-119213: the process aborts in Py_FinalizeEx after a "
    "sub-interpreter used this (fixed in later 3.12 releases)",
)

# Bound on every subprocess: interpreter exit must not hang, and a hang must fail the test.
SUBPROCESS_TIMEOUT = 90


def run_python(args, *, cwd=None, stdin=None, env_extra=None, timeout=SUBPROCESS_TIMEOUT):
    """Runs this Python with ``args``; returns the CompletedProcess (text mode).

    The child sees the tests directory on PYTHONPATH, so it can import ``helpers``."""
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONFAULTHANDLER"] = "1"  # a crash in the child prints its stacks
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_ok(proc):
    """Asserts a child exited 0 and returns its stdout."""
    assert proc.returncode == 0, (
        f"exit code {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc.stdout


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


def buffer_address(obj):
    """The address of the first byte of ``obj``'s buffer (read-only access, PyBUF_SIMPLE)."""
    view = _PyBuffer()
    if _get_buffer(obj, ctypes.byref(view), 0) != 0:
        raise BufferError(f"no buffer on {obj!r}")
    try:
        return view.buf
    finally:
        _release_buffer(ctypes.byref(view))


def rss_bytes():
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
