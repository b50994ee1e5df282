// convert.h: pergil::Value to Python objects and back, inside one worker interpreter.
#pragma once

#include <Python.h>

#include <string>
#include <vector>

#include "pergil/value.h"

namespace pergil::detail {

// Deepest nesting converted either way; deeper (or self-containing) values fail with
// RecursionError instead of exhausting the worker thread's stack.
constexpr int kMaxNesting = 1000;

// A new tuple of the arguments, or null with a Python exception set (ValueError naming the
// argument, e.g. "args[1]['name']", for a string that is not valid UTF-8).
// Contract: the GIL of the interpreter that will own the objects is held.
PyObject* to_python_args(const std::vector<Value>& args);
PyObject* to_python(const Value& value, const char* root);

// Converts `obj` into `out`. On failure returns false with a Python exception set: TypeError
// naming the path ("result[2]['k']") and type of an unsupported object, OverflowError for an
// int outside int64, ValueError for a str with lone surrogates.
// Contract: the GIL of obj's interpreter is held.
bool from_python(PyObject* obj, Value* out, const char* root);

// "ValueError" for builtins, "package.module.QualName" otherwise. Clears errors of its own.
std::string type_full_name(PyTypeObject* type);

}  // namespace pergil::detail
