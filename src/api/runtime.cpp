// runtime.cpp: starting (or joining) the embedded Python, and the safety net that ends pools.
#include "pergil/runtime.h"

#include <Python.h>

#include <atomic>
#include <stdexcept>

#include "engine/gil.h"
#include "pergil/errors.h"
#include "python_access.h"
#include "registry.h"

namespace pergil {

namespace {

std::atomic<bool> runtime_alive{false};

// Registered with the main interpreter's atexit: runs at the start of Py_FinalizeEx, before
// Python checks for (3.12: aborts on) live sub-interpreters.
PyObject* shut_down_pools_at_exit(PyObject*, PyObject*) {
  {
    detail::GilReleasedIfHeld released;
    detail::shut_down_live_pools();
  }
  Py_RETURN_NONE;
}

PyMethodDef at_exit_method = {"pergil_shut_down_pools", shut_down_pools_at_exit, METH_NOARGS,
                              "Ends every pergil pool still alive before Python finalizes."};

// Contract: the main interpreter is attached.
void register_at_exit() {
  using detail::Ref;
  Ref atexit = Ref::steal(PyImport_ImportModule("atexit"));
  Ref hook = Ref::steal(PyCFunction_New(&at_exit_method, nullptr));
  Ref done = atexit && hook
                 ? Ref::steal(PyObject_CallMethod(atexit.get(), "register", "O", hook.get()))
                 : Ref();
  if (!done) {
    PyErr_Clear();
    throw Error("pergil: cannot register the atexit hook that ends pools");
  }
}

// Starts Python the way Py_InitializeEx(0) does (environment honoured, no signal handlers:
// the host keeps its own), but reports failure as an exception instead of aborting.
// A given executable becomes config.executable: Python's path search (getpath) then reads the
// pyvenv.cfg beside it and takes that environment's prefix and site-packages.
void start_python(const RuntimeOptions& options) {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  PyStatus status = PyStatus_Ok();
  if (!options.python_executable.empty())
    status =
        PyConfig_SetBytesString(&config, &config.executable, options.python_executable.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status))
    throw Error(std::string("pergil: cannot start Python: ") +
                (status.err_msg ? status.err_msg : "unknown error"));
}

}  // namespace

Runtime::Runtime() : Runtime(RuntimeOptions{}) {}

Runtime::Runtime(RuntimeOptions options) {
  if (runtime_alive.exchange(true))
    throw std::logic_error("pergil: a Runtime exists already; use that one");
  try {
    if (Py_IsInitialized()) {
      detail::MainInterpreterAttached attached;
      register_at_exit();
    } else {
      start_python(options);
      owns_python_ = true;
      register_at_exit();
      main_thread_state_ = PyEval_SaveThread();
    }
  } catch (...) {
    if (owns_python_) Py_FinalizeEx();
    runtime_alive = false;
    throw;
  }
}

Runtime::~Runtime() {
  {
    detail::GilReleasedIfHeld released;
    detail::shut_down_live_pools();
  }
  if (owns_python_) {
    PyEval_RestoreThread(static_cast<PyThreadState*>(main_thread_state_));
    Py_FinalizeEx();
  }
  runtime_alive = false;
}

std::string Runtime::python_version() {
  std::string version = Py_GetVersion();  // "3.13.0 (main, ...) [GCC ...]"
  return version.substr(0, version.find(' '));
}

}  // namespace pergil
