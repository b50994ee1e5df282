"""dask_client.py: client-side helpers of the Dask tests (the main interpreter only)."""

import time


def wait_until_processing(client, count, timeout=30):
    """Returns once the scheduler reports at least ``count`` tasks processing on its workers;
    fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while sum(map(len, client.processing().values())) < count:
        assert time.monotonic() < deadline, f"fewer than {count} tasks processing in {timeout} s"
        time.sleep(0.05)
