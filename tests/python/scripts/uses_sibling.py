"""uses_sibling.py: a script that imports a module next to it; workers must import it too."""

import sys

import pergil
import sibling_module

if __name__ == "__main__":
    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
        print("RESULT", list(executor.map(sibling_module.negate, range(5))))
