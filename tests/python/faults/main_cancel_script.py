"""main_cancel_script.py WORKERS HOW: a task that calls a function of this script is cancelled
(HOW: "cancel" or "timeout") while its worker is still running this script's top level to
find that function. The script must load again for the next task: prints "served: 42"."""

import os
import sys
import tempfile

if __name__ == "__mp_main__":  # in a worker, on the first lookup of a name of this script
    _flag = os.environ["PERGIL_TEST_FLAG"]
    if not os.path.exists(_flag):
        os.write(int(os.environ["PERGIL_TEST_FD"]), b"s")
        while not os.path.exists(_flag):  # a long top level: the cancel lands in here
            pass


def work(a, b):
    return a + b


if __name__ == "__main__":
    import pergil
    from faults.support import Signals

    workers, how = int(sys.argv[1]), sys.argv[2]
    signals = Signals()
    flag = os.path.join(tempfile.mkdtemp(), "loaded-once")
    os.environ["PERGIL_TEST_FD"] = str(signals.fd)  # workers see the process environment
    os.environ["PERGIL_TEST_FLAG"] = flag
    with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
        if how == "timeout":
            first = executor.submit_with_timeout(0.5, work, 1, 1)
            signals.wait(1)
            print("first:", type(first.exception(timeout=60)).__name__, flush=True)
        else:
            first = executor.submit(work, 1, 1)
            signals.wait(1)
            print("first cancelled:", first.cancel(), flush=True)
        open(flag, "w").close()
        results = [executor.submit(work, 40, 2) for _ in range(2 * workers)]
        print("served:", {f.result(timeout=60) for f in results}, flush=True)
    os.unlink(flag)
