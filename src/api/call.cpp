// call.cpp: resolving, calling and capturing errors of "module:function" targets in a worker.
#include "call.h"

#include <stdexcept>

#include "convert.h"
#include "engine/gil.h"

namespace pergil::detail {

namespace {

// Keys of this file's entries in each worker's per-interpreter cache.
char resolved_targets_key;
char format_exception_key;

// A new reference to the callable named by `target`, or null with an exception set. Resolved
// functions are kept per interpreter in a dict keyed by the target's text.
PyObject* resolve(WorkerContext& worker, const Target& target) {
  Ref& table = worker.cached(&resolved_targets_key);
  if (!table) table = Ref::steal(PyDict_New());
  if (!table) return nullptr;
  Ref key = Ref::steal(
      PyUnicode_FromStringAndSize(target.text.data(), static_cast<Py_ssize_t>(target.text.size())));
  if (!key) return nullptr;
  PyObject* hit = PyDict_GetItemWithError(table.get(), key.get());  // borrowed
  if (hit != nullptr) return Py_NewRef(hit);
  if (PyErr_Occurred()) return nullptr;
  Ref obj = Ref::steal(PyImport_ImportModule(target.module.c_str()));
  size_t start = 0;
  while (obj && start <= target.qualname.size()) {
    size_t dot = target.qualname.find('.', start);
    if (dot == std::string::npos) dot = target.qualname.size();
    obj = Ref::steal(
        PyObject_GetAttrString(obj.get(), target.qualname.substr(start, dot - start).c_str()));
    start = dot + 1;
  }
  if (!obj || PyDict_SetItem(table.get(), key.get(), obj.get()) != 0) return nullptr;
  return obj.release();
}

// The text traceback.format_exception(exc) makes, or "" with an exception set.
std::string format_traceback(WorkerContext& worker, PyObject* exc) {
  Ref& format = worker.cached(&format_exception_key);
  if (!format) {
    Ref module = Ref::steal(PyImport_ImportModule("traceback"));
    if (module) format = Ref::steal(PyObject_GetAttrString(module.get(), "format_exception"));
    if (!format) return {};
  }
  Ref lines = Ref::steal(PyObject_CallOneArg(format.get(), exc));
  Ref empty = lines ? Ref::steal(PyUnicode_FromString("")) : Ref();
  Ref text = empty ? Ref::steal(PyUnicode_Join(empty.get(), lines.get())) : Ref();
  const char* utf8 = text ? PyUnicode_AsUTF8(text.get()) : nullptr;
  return utf8 != nullptr ? utf8 : std::string();
}

std::exception_ptr cancelled() {
  PyErr_Clear();
  return std::make_exception_ptr(
      CancelledError(CancelReason::kCancelled, "the call was interrupted by a cancel"));
}

// Turns the raised exception into a PythonError (CancelledError for the worker's interrupt,
// also when it arrives while the error is being described) and clears it.
std::exception_ptr take_raised_error(WorkerContext& worker) {
  if (PyErr_ExceptionMatches(worker.interrupt_type())) return cancelled();
  Ref exc = Ref::steal(PyErr_GetRaisedException());
  std::string type = type_full_name(Py_TYPE(exc.get()));
  Ref str = Ref::steal(PyObject_Str(exc.get()));
  const char* message = str ? PyUnicode_AsUTF8(str.get()) : nullptr;
  std::string text = message != nullptr ? message : "<str() of the exception failed>";
  if (PyErr_Occurred() && PyErr_ExceptionMatches(worker.interrupt_type())) return cancelled();
  PyErr_Clear();
  std::string traceback = format_traceback(worker, exc.get());
  if (PyErr_Occurred() && PyErr_ExceptionMatches(worker.interrupt_type())) return cancelled();
  PyErr_Clear();
  if (traceback.empty()) traceback = (text.empty() ? type : type + ": " + text) + "\n";
  return std::make_exception_ptr(PythonError(type, text, traceback));
}

}  // namespace

Target parse_target(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
      text.find(':', colon + 1) != std::string_view::npos)
    throw std::invalid_argument("pergil: a target is \"module:function\", not \"" +
                                std::string(text) + "\"");
  return Target{std::string(text), std::string(text.substr(0, colon)),
                std::string(text.substr(colon + 1))};
}

Result call_target(WorkerContext& worker, const Target& target, const std::vector<Value>& args,
                   bool convert_result) noexcept {
  try {
    Ref function = Ref::steal(resolve(worker, target));
    Ref arguments = function ? Ref::steal(to_python_args(args)) : Ref();
    Ref returned =
        arguments ? Ref::steal(PyObject_Call(function.get(), arguments.get(), nullptr)) : Ref();
    Value result;
    if (returned && (!convert_result || from_python(returned.get(), &result, "result")))
      return Result::success(std::move(result));
    return Result::failure(take_raised_error(worker));
  } catch (...) {  // std::bad_alloc and the like: delivered to the caller, never lost
    PyErr_Clear();
    return Result::failure(std::current_exception());
  }
}

}  // namespace pergil::detail
