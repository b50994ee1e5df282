"""__main__.py: ``python -m pergil`` runs the command line (see pergil.cli)."""

import sys

from pergil.cli import main

if __name__ == "__main__":  # a process pool's spawned child imports this as __mp_main__
    sys.exit(main())
