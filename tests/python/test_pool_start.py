"""test_pool_start.py: pools start again and again, each worker importing and running an
initializer, while another pool's task keeps making new extension types (CPython 3.12/3.13
give them version tags from one unsynchronized counter; interpreters starting at once once
gave a new interpreter's FileIO the BufferedReader's close). No timing is asserted."""

import pergil
from helpers import tasks


def test_pools_start_while_another_interpreter_makes_types(workers, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("pergil " * 100)
    stop = tmp_path / "stop"
    with pergil.InterpreterPoolExecutor(max_workers=1) as background:
        churn = background.submit(tasks.reimport_until, str(stop))
        try:
            for round_ in range(6):
                with pergil.InterpreterPoolExecutor(
                        max_workers=workers, initializer=tasks.set_worker_value,
                        initargs=(round_,)) as executor:
                    texts = list(executor.map(tasks.read_text, [str(data)] * (2 * workers)))
                    assert texts == [data.read_text()] * (2 * workers)
                    assert executor.submit(tasks.get_worker_value).result() == (round_,)
        finally:
            stop.touch()
        assert churn.result() >= 1
