"""runner.py: run as ``python -m pkgmain.runner N``: its functions live in __main__."""

import sys

import pergil


def halve(x):
    return x / 2


class Tag:
    def __init__(self, name):
        self.name = name


def tag(name):
    return Tag(name)


if __name__ == "__main__":
    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
        print("RESULT", list(executor.map(halve, range(6))))
        result = executor.submit(tag, "t").result()
        print("TAG", type(result) is Tag, result.name)
