"""import_fails.py: a target module whose top level raises."""

raise RuntimeError("this module cannot be imported")
