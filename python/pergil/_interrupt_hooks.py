"""_interrupt_hooks.py: Ctrl-C in the stdlib's concurrent.futures.wait() / as_completed()
interrupts the running tasks of the pergil pools whose futures they wait on.

Both functions block in ``waiter.event.wait(timeout)`` on a waiter that the module-level
``concurrent.futures._base._create_and_install_waiters(fs, return_when)`` builds (same code in
3.12 and 3.13); neither calls the pool. ``install()`` wraps that function: when some of ``fs``
are pending pergil futures, the new waiter's ``event.wait`` becomes one that, when a
KeyboardInterrupt escapes it, interrupts those futures' pools and re-raises.

Why there, not elsewhere: the KeyboardInterrupt is caught exactly where the caller waits, so
nothing fires when a Ctrl-C lands elsewhere (a hook on ``_waiters.remove`` in as_completed's
``finally`` cannot tell: ``sys.exc_info()`` there also shows an outer, already handled
KeyboardInterrupt); wait() and as_completed() share it; futures of other executors pass
through untouched; and it costs nothing per submitted task (a per-future ``_waiters`` list
subclass costs 0.3-0.5 us on a 1.6 us Future). If a later Python renames these internals,
install() or the wrapper leaves the stdlib as it is: Ctrl-C then only raises, as before.
"""

import concurrent.futures._base as _base

_PENDING = _base.PENDING
_RUNNING = _base.RUNNING


def _pending_pools(futures):
    """The distinct pergil pools of the futures not yet done (pergil's _Future has the
    attribute ``_pergil_pool``; other futures do not)."""
    pools = []
    for future in futures:
        pool = getattr(future, "_pergil_pool", None)
        if pool is not None and future._state in (_PENDING, _RUNNING) and pool not in pools:
            pools.append(pool)
    return pools


def _interrupting_wait(wait, pools):
    def wait_or_interrupt(timeout=None):
        try:
            return wait(timeout)
        except KeyboardInterrupt:
            for pool in pools:
                pool.interrupt_running()
            raise

    return wait_or_interrupt


def _wrap(create_and_install_waiters):
    def create_and_install_interrupting_waiters(fs, return_when):
        waiter = create_and_install_waiters(fs, return_when)
        pools = _pending_pools(fs)
        event = getattr(waiter, "event", None)
        if pools and event is not None:
            # Shadows the method on this one Event only; set()/clear() stay the Event's own.
            event.wait = _interrupting_wait(event.wait, pools)
        return waiter

    create_and_install_interrupting_waiters._pergil_original = create_and_install_waiters
    return create_and_install_interrupting_waiters


def install():
    """Wraps the stdlib's waiter factory once per interpreter (idempotent)."""
    original = getattr(_base, "_create_and_install_waiters", None)
    if original is None or hasattr(original, "_pergil_original"):
        return
    _base._create_and_install_waiters = _wrap(original)
