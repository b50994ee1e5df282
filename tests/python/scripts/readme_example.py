from concurrent.futures import as_completed
import pergil

def work(n):
    return sum(i * i for i in range(n))

if __name__ == "__main__":
    with pergil.InterpreterPoolExecutor(max_workers=4) as ex:
        print(list(ex.map(work, range(10))))
        print(sorted(f.result() for f in as_completed([ex.submit(work, 10**5)])))
