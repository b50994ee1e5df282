"""import_lock_script.py MODE WORKERS: extension-module loading in workers under pergil's
per-module creation lock (src/python/import_lock.cpp). Prints "ok" once MODE's checks pass;
a crash aborts the process and a deadlock hangs it (the test kills it).

MODE: storm (each round, every worker imports refused modules at once: 3.12 runs their
process-global init in each worker), fresh (concurrent re-imports of allowed modules),
nested (loads inside loads, same-thread recursion), cancel-holding (cancel tasks that hold a
module's lock or wait for it), cancel-imports (cancel imports at many points)."""

import importlib.util
import sys

import pergil
from faults import import_tasks, tasks
from faults.support import WAIT_TIMEOUT, Signals, assert_cancelled, assert_pool_serves

FRESH = import_tasks.FRESH_EXTENSIONS
REFUSED = [n for n in ("readline", "_curses") if importlib.util.find_spec(n) is not None]


def results(futures):
    return [future.result(timeout=WAIT_TIMEOUT) for future in futures]


def storm(pool, workers, signals):
    for _ in range(40):
        futures = [pool.submit(tasks.import_module, name)
                   for name in REFUSED for _ in range(2 * workers)]
        for future in futures:
            error = future.exception(timeout=WAIT_TIMEOUT)
            assert isinstance(error, ImportError), repr(error)


def fresh(pool, workers, signals):
    expected = [name for name in FRESH for _ in range(2 * workers)]
    for _ in range(20):
        assert results([pool.submit(import_tasks.reimport, name) for name in expected]) == expected


def nested(pool, workers, signals):
    """Each task holds one module's lock while it loads the modules after it (and itself again,
    same-thread recursion), on every worker at once; others hold one lock three times."""
    for _ in range(10):
        futures = []
        for i, outer in enumerate(FRESH):
            futures += [pool.submit(import_tasks.nested_reimports, outer, FRESH[i:])
                        for _ in range(workers)]
            futures.append(pool.submit(import_tasks.recursive_holds, outer, 3))
        results(futures)


def cancel_holding(pool, workers, signals):
    """A task cancelled inside the locked call releases the lock; one cancelled while it
    waits for the lock ends once it gets it. Then that module's lock serves everyone."""
    name = FRESH[0]
    for _ in range(5):
        holder = pool.submit(import_tasks.spin_holding, name, signals.fd)
        signals.wait(1)
        waiters = [pool.submit(import_tasks.wait_for_lock_then_return, name, i)
                   for i in range(workers - 1)]
        for future in [*waiters, holder]:
            assert future.cancel()
        for future in [holder, *waiters]:
            assert_cancelled(future)
        assert results([pool.submit(import_tasks.reimport, name)]) == [name]
        values = list(range(2 * workers))
        assert results([pool.submit(import_tasks.wait_for_lock_then_return, name, i)
                        for i in values]) == values


def cancel_imports(pool, workers, signals):
    """Imports cancelled queued, before the lock, inside create_module or in the module's
    init; afterwards every module still loads on every worker."""
    names = list(FRESH) + REFUSED
    for round_ in range(40):
        futures = [pool.submit(import_tasks.reimport, name) for name in names]
        for future in futures[round_ % 2::2]:
            future.cancel()
        for future in futures:
            try:
                future.result(timeout=WAIT_TIMEOUT)
            except ImportError:
                pass
            except BaseException as error:  # noqa: BLE001
                assert future.cancelled(), repr(error)
    expected = [name for name in FRESH for _ in range(workers)]
    assert results([pool.submit(import_tasks.reimport, name) for name in expected]) == expected


MODES = {"storm": storm, "fresh": fresh, "nested": nested, "cancel-holding": cancel_holding,
         "cancel-imports": cancel_imports}


def main(mode, workers):
    signals = Signals()
    with pergil.InterpreterPoolExecutor(workers) as pool:
        MODES[mode](pool, workers, signals)
        assert_pool_serves(pool, workers, signals)
    print("ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
