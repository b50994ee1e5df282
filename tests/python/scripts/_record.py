"""_record.py: appends a line to $PERGIL_TEST_RECORD, so tests count how often a script ran."""

import os


def record(what):
    path = os.environ.get("PERGIL_TEST_RECORD")
    if path:
        with open(path, "a") as handle:
            handle.write(f"{what}\n")
