"""pkgmain: a package whose modules are run with ``python -m``."""
