"""user_script.py: a small pergil program that ``mypy --strict`` must accept (test_typing.py)."""

from concurrent.futures import Future, as_completed, wait

import pergil
from pergil import BrokenInterpreterPool, InterpreterPoolExecutor, RemoteError, TaskTimeout
from pergil.cli import main as cli_main


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def scale(x: float, factor: float = 2.0) -> float:
    return x * factor


def describe(error: BaseException) -> str:
    if isinstance(error, pergil.RemoteError):
        return f"{error.type_name}: {error.message}\n{error.traceback_text}"
    cause = error.__cause__
    if isinstance(cause, pergil.RemoteTraceback):
        return cause.traceback_text
    return str(error)


def setup(name: str) -> None:
    print(name)


def run() -> list[int]:
    with InterpreterPoolExecutor(max_workers=2, initializer=setup, initargs=("w",)) as ex:
        workers: int = ex.max_workers
        squares: list[float] = list(ex.map(scale, [1.0, 2.0], [3.0, 4.0], chunksize=1))
        futures: list[Future[int]] = [ex.submit(fib, n) for n in range(workers)]
        done = [f.result() for f in as_completed(futures)]
        finished, _ = wait([ex.submit(scale, 1.5, factor=3.0)], timeout=10)
        slow = ex.submit_with_timeout(0.5, fib, 40)
        try:
            done.append(slow.result())
        except TaskTimeout as error:
            print(describe(error), squares, len(finished))
        except (RemoteError, BrokenInterpreterPool) as error:
            print(describe(error))
        slow.cancel()
        ex.shutdown(wait=True, cancel_futures=True, interrupt_running=True)
    return done


if __name__ == "__main__":
    print(sorted(run()), pergil.__version__)
    status: int = cli_main(["info"])
