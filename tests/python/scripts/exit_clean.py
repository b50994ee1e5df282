"""exit_clean.py MODE N: runs one kind of task, then exits normally: the process must end with
code 0, not abort in Py_FinalizeEx (CPython 3.12.1 does, gh-119213, when an extension's keyword
parser is first used inside a sub-interpreter; pergil's own code paths must not trigger it)."""

import sys

import pergil
from helpers import tasks

MODES = {
    "ok": lambda ex: ex.submit(tasks.square, 3).result() == 9,
    "raises": lambda ex: isinstance(ex.submit(tasks.raise_value_error, "x").exception(), ValueError),
    "unpicklable_result": lambda ex: isinstance(ex.submit(tasks.return_lock).exception(), TypeError),
    "unpicklable_exception": lambda ex: isinstance(
        ex.submit(tasks.raise_unpicklable, "x").exception(), pergil.RemoteError),
    "big_result": lambda ex: len(ex.submit(tasks.make_bytes, 1 << 20).result()) == 1 << 20,
    "view_result": lambda ex: ex.submit(tasks.make_view_with_address, 1 << 20).result()[0].nbytes
    == 1 << 20,
    "object_result": lambda ex: ex.submit(tasks.roundtrip, tasks.Accumulator(2)).result()
    == tasks.Accumulator(2),
    "by_value": lambda ex: ex.submit(lambda x: x + 1, 1).result() == 2,
    "refused_import": lambda ex: isinstance(
        ex.submit(tasks.import_module, "_tkinter").exception(), ImportError),
    "system_exit": lambda ex: isinstance(ex.submit(tasks.raise_system_exit, 2).exception(),
                                         SystemExit),
    "initializer_fails": None,
}

if __name__ == "__main__":
    mode, workers = sys.argv[1], int(sys.argv[2])
    if mode == "initializer_fails":
        ex = pergil.InterpreterPoolExecutor(max_workers=workers,
                                            initializer=tasks.failing_initializer, initargs=("x",))
        try:
            ok = isinstance(ex.submit(tasks.square, 1).exception(), pergil.BrokenInterpreterPool)
        except pergil.BrokenInterpreterPool:
            ok = True
        ex.shutdown()
    else:
        with pergil.InterpreterPoolExecutor(max_workers=workers) as ex:
            ok = all(MODES[mode](ex) for _ in range(3))
    print("OK" if ok else "WRONG")
