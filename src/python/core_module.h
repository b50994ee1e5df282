// core_module.h: the state and types of the extension module pergil._core, per interpreter.
#pragma once

#include <Python.h>

#include "../engine/buffer.h"

namespace pergil::python {

// Module state. pergil._core uses multi-phase init and keeps its types here, so each
// interpreter that imports it (the main one and every worker) gets its own copies.
struct ModuleState {
  PyTypeObject* shared_buffer_type = nullptr;
  PyTypeObject* pool_type = nullptr;
  PyTypeObject* task_type = nullptr;
  PyTypeObject* buffer_finder_type = nullptr;
};

ModuleState* module_state(PyObject* module);

// Counts the os.fork() children this process descends from, since pergil was loaded. Objects
// record it when created; in a later generation (a forked child) the process has none of the
// parent's worker threads and CPython has deleted its sub-interpreters, so the C++ state of
// inherited pools, tasks and loans is leaked on purpose, never touched: its mutexes may have
// been held by threads that do not exist in the child.
uint64_t fork_generation();

// Wraps a Buffer in a read-only pergil._core.SharedBuffer of the current interpreter.
// The Buffer (and so the memory it reads) lives as long as the returned object.
PyObject* wrap_buffer(PyTypeObject* shared_buffer_type, detail::Buffer buffer);

// The Buffer of `obj` if it is a SharedBuffer (of `type`) that nobody else can read: a loan
// marked movable (see detail::Loan), held by this object alone, with no export alive. Its pages
// may then be moved out instead of copied; call forget_memory(obj) right after. Else nullptr.
detail::Buffer* movable_buffer(PyTypeObject* type, PyObject* obj);
void forget_memory(PyObject* shared_buffer);

// Module functions (copy.cpp).
extern PyMethodDef core_methods[];
// Module functions added by the exec slot (import_lock.cpp, wire_scan.cpp, thread_frames.cpp).
extern PyMethodDef import_lock_methods[];
extern PyMethodDef wire_methods[];
extern PyMethodDef thread_frames_methods[];
extern PyMethodDef wire_marshal_methods[];
// pergil._core.plain_data(obj): True if obj is plain builtin data (wire_scan.cpp).
PyObject* plain_data(PyObject* module, PyObject* obj);
// Sets sys._current_frames / sys._current_exceptions of the current interpreter to the module's
// versions limited to this interpreter's threads (thread_frames.cpp says why). 0 or -1.
int install_thread_frames(PyObject* module);

// Type specs, defined beside each type, registered by the module's exec slot.
extern PyType_Spec shared_buffer_spec;
extern PyType_Spec pool_spec;
extern PyType_Spec task_spec;
extern PyType_Spec buffer_finder_spec;

}  // namespace pergil::python
