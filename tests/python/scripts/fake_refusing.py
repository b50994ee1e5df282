"""fake_refusing.py: imports in the main interpreter; in a pergil worker it fails as a
non-isolated extension module does (CPython's exact refusal, wrapped in a long "bad install"
message, as NumPy does)."""

from pergil import _worker

if _worker.TaskInterrupted is not None:  # a pergil worker
    try:
        raise ImportError("module fake_refusing._core does not support loading in "
                          "subinterpreters")
    except ImportError as refusal:
        message = ("\n\nIMPORTANT: PLEASE READ THIS FOR ADVICE ON HOW TO SOLVE THIS ISSUE!\n\n"
                   "Importing the C-extensions failed: a bad install.\n" + "advice\n" * 30
                   + f"\nOriginal error was: {refusal}\n")
        raise ImportError(message) from refusal

VALUE = 7
