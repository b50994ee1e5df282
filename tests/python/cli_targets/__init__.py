"""cli_targets: modules that tests/python/test_cli.py names as ``pergil run`` targets."""
