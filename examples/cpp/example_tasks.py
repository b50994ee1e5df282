"""example_tasks.py: the Python functions that the C++ examples call in pergil's workers."""


def square(x):
    return x * x


def parse_record(text):
    """'name=ada;age=36' -> {'name': 'ada', 'age': 36}; ValueError for an age that is no int."""
    fields = dict(part.split("=", 1) for part in text.split(";"))
    return {"name": fields["name"], "age": _age(fields["age"])}


def _age(text):
    return int(text)
