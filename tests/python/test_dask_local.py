"""test_dask_local.py: a pergil executor as Dask's local scheduler (dask.compute(...,
scheduler=executor)) with dask.bag and dask.delayed graphs; `import pergil` imports no Dask."""

import subprocess
import sys

import pytest

dask = pytest.importorskip("dask", reason="the dask extra is not installed")

import dask.bag as db  # noqa: E402

import pergil  # noqa: E402
from helpers import dask_tasks as tasks  # noqa: E402

pytestmark = pytest.mark.timeout(60)


@pytest.mark.skipif(sys.version_info < (3, 13), reason="CPython 3.12 refuses _ctypes in "
                    "sub-interpreters; dask.bag imports it (through fsspec)")
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_bag_graph_matches_the_threaded_scheduler(workers):
    bag = db.from_sequence([n % 18 for n in range(120)], npartitions=6)
    total = bag.map(tasks.fib).filter(lambda x: x % 2).sum()
    with pergil.InterpreterPoolExecutor(workers) as executor:
        assert total.compute(scheduler=executor) == total.compute(scheduler="threads")
        places = db.from_sequence(range(8), npartitions=4).map(tasks.where_am_i).distinct()
        assert places.compute(scheduler=executor) == ["sub-interpreter"]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_delayed_graph_of_table_loads(workers):
    texts = [dask.delayed(tasks.make_csv)(seed, 500) for seed in range(5)]
    summaries = [dask.delayed(tasks.load_table)(text) for text in texts]
    total = dask.delayed(sum)([dask.delayed(lambda s: s["total"])(s) for s in summaries])
    with pergil.InterpreterPoolExecutor(workers) as executor:
        ours = dask.compute(summaries, total, scheduler=executor)
    assert ours == dask.compute(summaries, total, scheduler="sync")


def test_task_exception_reaches_compute_with_its_type():
    with pergil.InterpreterPoolExecutor(2) as executor:
        with pytest.raises(ValueError, match="bad value 3"):
            dask.delayed(tasks.fail)(3).compute(scheduler=executor)
        with pytest.raises(ImportError, match="in a pergil worker"):
            dask.delayed(tasks.import_refused)(3).compute(scheduler=executor)
        assert dask.delayed(tasks.fib)(10).compute(scheduler=executor) == 55  # still usable


def test_import_pergil_imports_no_dask():
    code = ("import sys, pergil, pergil._executor, pergil.cli\n"
            "pergil.InterpreterPoolExecutor(1).shutdown()\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed', 'pandas', 'numpy'))\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
