#!/usr/bin/env python3
"""executors.py: serial, threads, processes, InterpreterPoolExecutor and pergil side by side.

    python bench/executors.py [--workers N] [--rounds R] [--quick] [--executors ...] [--json PATH]

A thin front for pergil._bench: ``pergil bench --full`` (this prints every table, the Markdown
summary for the README and the targets; ``pergil bench`` alone prints the compact table).
pergil must be installed
(``pip install .[bench]`` from the repository root also brings the InterpreterPoolExecutor
backport on Python < 3.14). ``--quick`` is the CI smoke run: it exits 0 when serial and pergil
ran every workload.
"""

import sys

try:
    from pergil import _bench
except ImportError as error:
    sys.exit(f"bench/executors.py: pergil is not importable ({error}); "
             "run `pip install .[bench]` from the repository root first")

if __name__ == "__main__":
    sys.exit(_bench.main(["--full", *sys.argv[1:]]))
