"""_cli_io.py: what ``pergil run`` reads and shows: JSON inputs from the command line, a file
or stdin, and the progress bar on stderr. Caller side only."""

import json
import sys
import time

from pergil._cli_worker import UsageError

# ---- inputs ----


def read_inputs(args):
    """Returns [(label, value)] for every input, decoded; raises UsageError on the first bad
    one. Command-line inputs are labelled ``input N``, file lines ``line N of FILE``."""
    if args.inputs_file is not None and args.values:
        raise UsageError("give inputs on the command line or with --inputs, not both")
    if args.inputs_file is None:
        if not args.values:
            raise UsageError("no inputs: give JSON values after the target, or --inputs FILE "
                             "(- for stdin)")
        labelled = [(f"input {n}", text) for n, text in enumerate(args.values, 1)]
    else:
        labelled = _read_lines(args.inputs_file)
    decoded = []
    for label, text in labelled:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            hint = " (strings need JSON quotes: '\"text\"')" if text[:1].isalpha() else ""
            reason = error.msg.removesuffix(" at")  # json says "Invalid control character at"
            raise UsageError(f"invalid JSON on {label}: {reason} at column {error.colno}: "
                             f"{clip(text)}{hint}") from None
        if args.star and not isinstance(value, (list, dict)):
            raise UsageError(f"--star needs a JSON array or object on {label}, not "
                             f"{clip(text)}")
        decoded.append((label, value))
    return decoded


def _read_lines(path):
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read inputs from {name}: {error}") from None
    lines = text.split("\n")  # not splitlines(): a JSON string may hold U+2028 or U+0085 as is
    return [(f"line {n} of {name}", line) for n, line in enumerate(lines, 1) if line.strip()]


def clip(text, width=60):
    """One printable line of at most ``width`` characters: control characters escaped."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text.strip())
    return text if len(text) <= width else text[: width - 3] + "..."


# ---- progress bar ----


class Progress:
    """A one-line progress bar on stderr, redrawn at most every 0.1 s. When not forced, it
    appears only once a run has lasted ``delay`` seconds, so short runs print nothing."""

    def __init__(self, total, stream, enabled, delay):
        self.total, self.stream, self.enabled, self.delay = total, stream, enabled, delay
        self.start = self.last = time.monotonic()
        self.shown, self.width, self.drawn = False, 0, None

    def update(self, done, force=False):
        now = time.monotonic()
        if not self.enabled or now - self.start < self.delay:
            return
        if not force and self.shown and now - self.last < 0.1:
            return
        self.last = now
        elapsed = now - self.start
        fraction = done / self.total if self.total else 1.0
        eta = f" eta {elapsed * (self.total - done) / done:.1f}s" if 0 < done < self.total else ""
        filled = int(fraction * 24)
        bar = "#" * filled + "." * (24 - filled)
        line = f"[{bar}] {done}/{self.total} {fraction:4.0%} {elapsed:.1f}s{eta}"
        # Pad over the previous line with spaces rather than an escape code: a file or a
        # pipe given --progress stays plain text.
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width, self.shown, self.drawn = len(line), True, done

    def clear(self):
        """Erases the bar so that a message can be printed on a line of its own."""
        if self.shown:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.shown, self.width, self.drawn = False, 0, None

    def finish(self, done):
        if self.enabled and (self.shown or self.delay == 0):
            if self.drawn != done:
                self.update(done, force=True)
            self.stream.write("\n")
            self.stream.flush()
