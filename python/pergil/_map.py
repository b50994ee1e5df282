"""_map.py: map()'s machinery: chunks, results in order, progress reports."""

import itertools

from pergil._futures import remote_exception

# About how many progress updates a map with progress and no chunksize makes.
PROGRESS_UPDATES = 100


def progress_sink(progress, total, chunked):
    """(the tqdm bar map() owns or None, the hook feeding progress or None)."""
    if not progress:
        return None, None
    bar = None
    if progress is True:
        try:
            from tqdm import tqdm
        except ImportError:
            raise ImportError("map(progress=True) shows a tqdm bar: install tqdm, or pass a "
                              "callable taking the number of items done") from None
        bar = tqdm(total=total, unit="item")
        progress = bar.update

    def chunk_done(outcome, failed):
        if not failed:
            values, error = outcome
            progress(len(values) + (error is not None))  # a failing item is done too

    def item_done(outcome, failed):
        progress(1)

    return bar, chunk_done if chunked else item_done


def closing(results, bar):
    """Yields from ``results``; closes map()'s own progress bar when they end."""
    if bar is None:
        return results

    def closing():
        try:
            yield from results
        finally:
            results.close()
            bar.close()

    return closing()


def unchunk(chunks):
    """Yields the results of map() chunks in order; raises the first failing item's exception
    (with its remote traceback) after the results before it."""
    try:
        for values, error in chunks:
            values.reverse()  # popped as yielded: no item stays held once the caller drops it
            while values:
                yield values.pop()
            if error is not None:
                raise remote_exception(*error)
    finally:
        chunks.close()  # cancels the chunks not yet run, as Executor.map's iterator does


def batched(iterable, n):
    iterator = iter(iterable)
    while batch := tuple(itertools.islice(iterator, n)):
        yield batch
