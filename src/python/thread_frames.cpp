// thread_frames.cpp: sys._current_frames() and sys._current_exceptions(), limited to the threads
// of the calling interpreter, installed in every interpreter that imports pergil._core.
//
// Why: CPython's own versions (3.12 to at least 3.15, Python/pystate.c _PyThread_CurrentFrames
// and _PyThread_CurrentExceptions) walk the threads of every interpreter in the process. For a
// thread of another own-GIL interpreter that is running Python code, _current_frames creates
// that frame's frame object with the caller's allocator and stores it in the other
// interpreter's frame, which later frees it with its own: "free(): invalid pointer" and the
// process aborts. _current_exceptions hands out the other interpreter's exception objects,
// whose reference counts the caller then changes without that interpreter's GIL. Profilers
// call these every few milliseconds (Dask's worker profile thread, pytest-timeout's thread
// dump, py-spy-like tools in process), so with a pool running the process would die at random.
// A thread of another interpreter is not the caller's to inspect: leaving it out is the fix.
//
// C API notes: the GIL of the calling interpreter is held (a METH_NOARGS function). The thread
// list is walked with PyInterpreterState_ThreadHead / PyThreadState_Next, public API; CPython
// walks it under the runtime's HEAD_LOCK, which is not exported. Without it, a thread state
// inserted concurrently (PyGILState_Ensure on a new thread inserts at the head before taking
// the GIL) is simply not seen; thread states of this interpreter are deleted with its GIL held
// (thread exit, PyGILState_Release), which the caller holds, so none is freed under the walk.
// t->thread_id and t->exc_info are fields of struct _ts (cpython/pystate.h, not the limited
// API), unchanged from 3.12 to 3.14 as far as we know; revisit them with each new CPython.
#include <Python.h>

#include <string>

#include "../engine/gil.h"
#include "core_module.h"

namespace pergil::python {

using detail::Ref;
namespace {

// The innermost exception being handled by `t`, as CPython's _PyErr_GetTopmostException finds
// it: the first stack item with a value that is not None, else the outermost item.
PyObject* topmost_exception(PyThreadState* t) {
  _PyErr_StackItem* item = t->exc_info;
  if (item == nullptr) return nullptr;
  while ((item->exc_value == nullptr || item->exc_value == Py_None) &&
         item->previous_item != nullptr)
    item = item->previous_item;
  return item->exc_value != nullptr ? item->exc_value : Py_None;
}

// {thread id: value} over the calling interpreter's threads; value_of returns a new reference,
// or nullptr to leave the thread out (with no exception set).
template <typename ValueOf>
PyObject* per_thread(ValueOf value_of) {
  Ref result = Ref::steal(PyDict_New());
  if (!result) return nullptr;
  PyInterpreterState* interp = PyInterpreterState_Get();
  for (PyThreadState* t = PyInterpreterState_ThreadHead(interp); t != nullptr;
       t = PyThreadState_Next(t)) {
    Ref value = Ref::steal(value_of(t));
    if (!value) {
      if (PyErr_Occurred()) return nullptr;
      continue;
    }
    Ref id = Ref::steal(PyLong_FromUnsignedLong(t->thread_id));
    if (!id || PyDict_SetItem(result.get(), id.get(), value.get()) < 0) return nullptr;
  }
  return result.release();
}

PyObject* current_frames(PyObject*, PyObject*) {
  // PyThreadState_GetFrame: a new reference to the thread's innermost complete frame, or NULL
  // (no exception) if it runs none.
  return per_thread([](PyThreadState* t) -> PyObject* {
    return reinterpret_cast<PyObject*>(PyThreadState_GetFrame(t));
  });
}

PyObject* current_exceptions(PyObject*, PyObject*) {
  return per_thread([](PyThreadState* t) -> PyObject* { return Py_XNewRef(topmost_exception(t)); });
}

}  // namespace

PyMethodDef thread_frames_methods[] = {
    {"current_frames", current_frames, METH_NOARGS,
     "current_frames() -> dict: sys._current_frames() for the calling interpreter's threads "
     "only\n(installed as sys._current_frames wherever pergil._core is imported)."},
    {"current_exceptions", current_exceptions, METH_NOARGS,
     "current_exceptions() -> dict: sys._current_exceptions() for the calling interpreter's "
     "threads\nonly (installed as sys._current_exceptions wherever pergil._core is imported)."},
    {nullptr, nullptr, 0, nullptr},
};

int install_thread_frames(PyObject* module) {
  for (const char* name : {"current_frames", "current_exceptions"}) {
    Ref function = Ref::steal(PyObject_GetAttrString(module, name));
    std::string sys_name = std::string("_") + name;
    if (!function || PySys_SetObject(sys_name.c_str(), function.get()) < 0) return -1;
  }
  return 0;
}

}  // namespace pergil::python
