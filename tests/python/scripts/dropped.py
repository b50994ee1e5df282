"""dropped.py MODE N: an executor that is never shut down; the interpreter must still exit.

MODE: pending (work queued at exit), global (kept in a global), deleted (del + gc while work
runs), running (a task still running at exit), idle (never used).
"""

import gc
import sys

import pergil
from helpers import tasks

mode, workers = sys.argv[1], int(sys.argv[2])
executor = pergil.InterpreterPoolExecutor(max_workers=workers)
if mode == "pending":
    futures = [executor.submit(tasks.square, i) for i in range(500)]
    print("FIRST", futures[0].result())
elif mode == "global":
    print("SUM", sum(executor.map(tasks.square, range(100))))
elif mode == "deleted":
    futures = [executor.submit(tasks.square, i) for i in range(200)]
    del executor
    gc.collect()
    print("SUM", sum(f.result() for f in futures))
elif mode == "running":
    futures = [executor.submit(tasks.sleep_steps, 0.3) for _ in range(workers)]
    print("STARTED")
print("END")
