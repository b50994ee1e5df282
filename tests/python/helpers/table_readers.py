"""table_readers.py: worker-side readers returning columns for frame_from_columns (no pandas,
no numpy: these run in pergil workers)."""

import array


def read_numbers(path):
    """A user's own format: lines of "name x n"; returns {name: column}."""
    names, xs, ns = [], array.array("d"), array.array("q")
    with open(path) as lines:
        for line in lines:
            name, x, n = line.split()
            names.append(name)
            xs.append(float(x))
            ns.append(int(n))
    return {"name": names, "x": xs, "n": ns}


def typed_columns(n):
    """One column of every kind frame_from_columns takes, n rows each."""
    return {
        "f64": array.array("d", (i / 4 for i in range(n))),
        "f32": array.array("f", (i / 2 for i in range(n))),
        "i64": array.array("q", range(-n, 0)),
        "i32": array.array("i", range(n)),
        "u8": array.array("B", (i % 256 for i in range(n))),
        "raw": bytes(i % 7 for i in range(n)),
        "view": memoryview(array.array("h", (i % 30000 - 15000 for i in range(n)))),
        "text": [None if i % 5 == 0 else f"s{i}" for i in range(n)],
    }
