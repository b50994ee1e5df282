"""_progress.py: read_many's progress bar: files done and MB read, through tqdm when it is
installed, else one line on stderr per file."""

import os
import sys


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Progress:
    """``with Progress(paths, enabled) as bar: bar.update(path)`` after each file."""

    def __init__(self, paths, enabled):
        self.enabled = bool(enabled)
        self.sizes = {path: _size(path) for path in paths} if self.enabled else {}
        self.total_mb = sum(self.sizes.values()) / 1e6
        self.files, self.done_mb, self.bar = len(self.sizes), 0.0, None

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            from tqdm.auto import tqdm
        except ImportError:
            print(f"read_many: {self.files} files, {self.total_mb:.1f} MB "
                  "(install tqdm for a progress bar)", file=sys.stderr, flush=True)
            return self
        self.bar = tqdm(total=self.files, unit="file", desc="read_many")
        return self

    def update(self, path):
        if not self.enabled:
            return
        self.done_mb += self.sizes.get(path, 0) / 1e6
        text = f"{self.done_mb:.1f}/{self.total_mb:.1f} MB"
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        else:
            done = self._count = getattr(self, "_count", 0) + 1
            print(f"read_many: {done}/{self.files} files, {text}: {os.fspath(path)}",
                  file=sys.stderr, flush=True)

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.close()
        return False
