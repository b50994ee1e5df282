"""main_lazy.py: no main guard, but the tasks use no __main__ function: workers must not re-run
this script at all."""

import sys

import pergil
from _record import record
from helpers import tasks

record(__name__)

with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
    print("RESULT", list(executor.map(tasks.square, range(10))))
    print("BUILTIN", executor.submit(pow, 2, 5).result())
print("AFTER")
