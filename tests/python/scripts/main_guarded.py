"""main_guarded.py: functions, classes and exceptions of a __main__ script with a main guard."""

import json
import sys

from _record import record

record(__name__)


def cube(x):
    return x**3


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm1(self):
        return abs(self.x) + abs(self.y)


class ScriptError(Exception):
    pass


def fail(message):
    raise ScriptError(message)


def make_point(x, y):
    return Point(x, y)


def shift(point, dx):
    return Point(point.x + dx, point.y)


if __name__ == "__main__":
    import pergil

    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
        cubes = list(executor.map(cube, range(20)))
        cubes_chunked = list(executor.map(cube, range(20), chunksize=6))
        point = executor.submit(make_point, 3, -4).result()
        shifted = executor.submit(shift, Point(1, 2), 10).result()
        norm = executor.submit(Point(-5, 6).norm1).result()
        try:
            executor.submit(fail, "from the script").result()
            error = None
        except ScriptError as caught:
            error = [type(caught).__name__, str(caught), "fail" in str(caught.__cause__)]
    print(json.dumps({
        "cubes": cubes, "cubes_chunked": cubes_chunked,
        "point": [type(point) is Point, point.x, point.y],
        "shifted": [type(shifted) is Point, shifted.x, shifted.y],
        "norm": norm, "error": error,
    }))
