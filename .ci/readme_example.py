#!/usr/bin/env python3
"""readme_example.py: takes the README's C++ example out of the README itself, so that CI
builds exactly what a reader copies: fenced blocks whose info string says ``file=NAME`` (written
to OUT/app/NAME), ``ci=checkout`` and ``ci=app`` (shell commands, in order, written to
OUT/checkout.sh and OUT/app.sh) and ``ci=output`` (the start of the expected output, written to
OUT/expected.txt).

    python3 .ci/readme_example.py README.md OUT
    python3 .ci/readme_example.py --check EXPECTED ACTUAL   # EXPECTED's lines in ACTUAL?
"""

import re
import sys
from pathlib import Path

FENCE = re.compile(r"^```(\S*)(.*)$")
ATTRIBUTE = re.compile(r"\b(file|ci)=(\S+)")


def blocks(text):
    """Yields (attributes, body) for every fenced block that has file= or ci= attributes."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        index += 1
        if match is None:
            continue
        attributes = dict(ATTRIBUTE.findall(match.group(2)))
        body = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        if attributes:
            yield attributes, "\n".join(body) + "\n"


def extract(readme, out):
    out = Path(out)
    (out / "app").mkdir(parents=True, exist_ok=True)
    scripts = {"checkout": [], "app": [], "output": []}
    files = []
    for attributes, body in blocks(Path(readme).read_text()):
        if "file" in attributes:
            (out / "app" / attributes["file"]).write_text(body)
            files.append(attributes["file"])
        elif attributes.get("ci") in scripts:
            scripts[attributes["ci"]].append(body)
        else:
            sys.exit(f"readme_example.py: unknown block attributes {attributes}")
    missing = [name for name, bodies in scripts.items() if not bodies]
    if not files or missing:
        sys.exit(f"readme_example.py: the README lacks blocks: files {files}, "
                 f"missing ci= blocks {missing}")
    (out / "checkout.sh").write_text("".join(scripts["checkout"]))
    (out / "app.sh").write_text("".join(scripts["app"]))
    (out / "expected.txt").write_text("".join(scripts["output"]))
    print(f"README example: files {', '.join(files)}; {sum(map(len, scripts.values()))} blocks")


def check(expected, actual):
    """Exit 0 if the expected lines appear together in the actual output (the commands' own
    output, CMake's, comes before the program's; trailing blanks ignored)."""
    want = [line.rstrip() for line in Path(expected).read_text().splitlines()]
    got = [line.rstrip() for line in Path(actual).read_text().splitlines()]
    if not want or not any(got[i:i + len(want)] == want for i in range(len(got))):
        sys.exit("the README example printed:\n" + "\n".join(got[-len(want) - 8:])
                 + "\nthe README says it prints:\n" + "\n".join(want))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        check(*sys.argv[2:4])
    else:
        extract(*sys.argv[1:3])
