"""uses_module.py MODE N: a task uses asyncio, ssl, threads or pickle's buffer_callback in a
worker; the process must then exit cleanly. CPython 3.12.1 aborts here (gh-119213)."""

import sys

import pergil


def run_asyncio(x):
    import asyncio

    async def double():
        await asyncio.sleep(0)
        return 2 * x

    return asyncio.run(double())


def run_ssl(x):
    import ssl

    return ssl.create_default_context() is not None and x


def run_threads(x):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        return sum(pool.map(abs, range(-x, x)))


def run_hashlib(x):
    """The keyword calls of hashlib and hmac (3.12.0-3.12.3 abort at exit after a first one in
    a sub-interpreter, gh-119213, unless the main interpreter made it first)."""
    import hashlib
    import hmac

    digests = [
        hashlib.blake2b(b"x" * x, digest_size=16).hexdigest(),
        hashlib.blake2s(b"x", key=b"k" * x).hexdigest(),
        hmac.new(b"k", b"m" * x, "sha256").hexdigest(),
        hmac.digest(b"k", b"m", "sha256").hex(),
        hashlib.pbkdf2_hmac("sha256", b"p", b"s", x).hex(),
        hashlib.sha256(b"x", usedforsecurity=False).hexdigest(),
        hashlib.new("md5", data=b"x").hexdigest(),
    ]
    if hasattr(hashlib, "scrypt"):
        digests.append(hashlib.scrypt(b"p", salt=b"s", n=2, r=1, p=x).hex())
    return all(digests) and x


def run_buffer_callback(x):
    import pickle

    buffers = []
    data = pickle.dumps(pickle.PickleBuffer(bytearray(x)), protocol=5,
                        buffer_callback=buffers.append)
    return memoryview(pickle.loads(data, buffers=buffers)).nbytes


if __name__ == "__main__":
    mode, workers = sys.argv[1], int(sys.argv[2])
    function = globals()["run_" + mode]
    with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
        print("RESULT", list(executor.map(function, range(1, 5))))
