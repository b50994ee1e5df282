"""sibling_module.py: imported by uses_sibling.py from the script's own directory."""


def negate(x):
    return -x
