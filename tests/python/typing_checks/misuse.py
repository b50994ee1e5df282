"""misuse.py: mistakes ``mypy --strict`` must report against pergil's hints (test_typing.py
checks each expected line: the file is never run)."""

import pergil


def fib(n: int) -> int:
    return n


with pergil.InterpreterPoolExecutor() as ex:
    reveal_type(ex.submit(fib, 3))  # pergil: note Future[int]
    reveal_type(ex.map(fib, [1, 2]))  # pergil: note Iterator[int]
    reveal_type(ex.submit_with_timeout(1.0, fib, 3))  # pergil: note Future[int]
    ex.submit(fib, "3")  # pergil: error [arg-type]
    ex.submit_with_timeout("1", fib, 3)  # pergil: error [arg-type]
    text: str = ex.submit(fib, 3).result()  # pergil: error [assignment]
    ex.shutdown(True, True)  # pergil: error [call-arg]
    pergil.InterpreterPoolExecutor(max_workers="2")  # pergil: error [arg-type]
    pergil.NoSuchName  # pergil: error [attr-defined]
    pergil.RemoteError("Name", "message")  # pergil: error [call-arg]
