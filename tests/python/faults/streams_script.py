"""streams_script.py WORKERS: tasks print to stdout and stderr, including one that raises and
one cancelled mid-loop; the test checks that every line reaches this process's streams."""

import sys

import pergil
from faults import tasks
from faults.support import Signals

if __name__ == "__main__":
    workers = int(sys.argv[1])
    signals = Signals()
    with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(tasks.write_streams, f"task{i}", 50) for i in range(3 * workers)]
        failing = executor.submit(tasks.write_then_raise, "failing")
        spinner = executor.submit(tasks.print_then_spin, "spinner", signals.fd)
        signals.wait(1)
        spinner.cancel()
        print("results:", sorted(f.result() for f in futures), flush=True)
        print("failing:", type(failing.exception()).__name__, flush=True)
