"""main_unguarded_function.py: no main guard; main() creates the pool and is called at top level."""

import sys

import pergil
from _record import record

record(__name__)


def double(x):
    return 2 * x


def main():
    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
        print("RESULT", sum(executor.map(double, range(100))))
    print("AFTER")


main()
