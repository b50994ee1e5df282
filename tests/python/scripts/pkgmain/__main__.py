"""__main__.py: ``python -m pkgmain N``: its functions travel by value."""

import sys

import pergil


def square_plus(x, k=1):
    return x * x + k


if __name__ == "__main__":
    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
        print("RESULT", list(executor.map(square_plus, range(6))))
