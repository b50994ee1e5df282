"""pergil.dask: own-GIL sub-interpreters as the executor of Dask workers.

Register ``InterpreterPlugin`` with a client, or start workers with
``dask worker SCHEDULER --preload pergil.dask`` (configured by Dask config ``pergil.workers``,
``pergil.default``, ``pergil.fallback``, ``pergil.prefetch``, for example
``DASK_PERGIL__WORKERS=4``).
Needs ``distributed`` (``pip install "pergil[dask]"``); ``import pergil`` never imports it.
"""

import dask.config

from pergil.dask._executor import WorkerExecutor, refused_by_subinterpreter
from pergil.dask._plugin import EXECUTOR_NAME, THREADS_NAME, InterpreterPlugin

__all__ = ["EXECUTOR_NAME", "THREADS_NAME", "InterpreterPlugin", "WorkerExecutor",
           "refused_by_subinterpreter", "plugin_from_config", "dask_setup"]


def _config_bool(value):
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    return value


def plugin_from_config():
    """The InterpreterPlugin that Dask config ``pergil.*`` describes (defaults otherwise).

    Returns:
        InterpreterPlugin: built from ``pergil.workers``, ``pergil.default`` (a bool or
        "true"/"false"/"1"/"0"/"yes"/"no"), ``pergil.fallback`` and ``pergil.prefetch``.

    Raises:
        ValueError: a config value InterpreterPlugin refuses (as its constructor says).
        TypeError: ``pergil.default`` that is not a bool or one of those strings.
    """
    return InterpreterPlugin(
        workers=dask.config.get("pergil.workers", None),
        default=_config_bool(dask.config.get("pergil.default", True)),
        fallback=dask.config.get("pergil.fallback", "error"),
        prefetch=dask.config.get("pergil.prefetch", 1),
    )


async def dask_setup(worker):
    """``--preload pergil.dask``: registers the plugin on this worker as if a client had.

    Returns:
        dict: ``{"status": "OK"}``, ``Worker.plugin_add``'s answer.

    Raises:
        ValueError: a ``pergil.*`` config value the plugin refuses (see plugin_from_config);
            the worker then fails to start.
        TypeError: likewise, for ``pergil.default``.
        Exception: what the plugin's ``setup`` raises (``catch_errors=False``).
    """
    result = await worker.plugin_add(plugin_from_config(), name=InterpreterPlugin.name,
                                     catch_errors=False)
    return result
