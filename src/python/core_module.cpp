// core_module.cpp: pergil._core, multi-phase init, safe to import in own-GIL sub-interpreters.
#include "core_module.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "../engine/interpreter.h"

namespace pergil::python {

ModuleState* module_state(PyObject* module) {
  return static_cast<ModuleState*>(PyModule_GetState(module));
}

namespace {

std::atomic<uint64_t> generation{0};

}  // namespace

uint64_t fork_generation() { return generation.load(std::memory_order_relaxed); }

namespace {

// Runs in the child of fork(), before CPython's own after-fork code. With an own-GIL
// interpreter alive, that code aborts the child (CPython gh-101437, open): say why first.
// Only async-signal-safe calls here.
void after_fork_in_child() {
  generation.fetch_add(1, std::memory_order_relaxed);
  if (detail::live_interpreter_count() == 0) return;
  static const char message[] =
      "pergil: this process forked while pergil worker interpreters were alive; CPython "
      "aborts such a child (gh-101437). Shut pergil pools down before os.fork(), or use the "
      "'spawn' or 'forkserver' multiprocessing start method.\n";
  ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)ignored;
}

void register_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, after_fork_in_child); });
}

PyTypeObject* add_type(PyObject* module, PyType_Spec* spec) {
  PyObject* type = PyType_FromModuleAndSpec(module, spec, nullptr);
  if (type == nullptr) return nullptr;
  if (PyModule_AddType(module, reinterpret_cast<PyTypeObject*>(type)) != 0) {
    Py_DECREF(type);
    return nullptr;
  }
  return reinterpret_cast<PyTypeObject*>(type);  // the module state keeps this reference
}

int core_exec(PyObject* module) {
  register_fork_handler();
  ModuleState* state = module_state(module);
  state->shared_buffer_type = add_type(module, &shared_buffer_spec);
  state->pool_type = state->shared_buffer_type ? add_type(module, &pool_spec) : nullptr;
  state->task_type = state->pool_type ? add_type(module, &task_spec) : nullptr;
  state->buffer_finder_type = state->task_type ? add_type(module, &buffer_finder_spec) : nullptr;
  if (state->buffer_finder_type == nullptr) return -1;
  if (PyModule_AddFunctions(module, import_lock_methods) != 0) return -1;
  if (PyModule_AddFunctions(module, wire_methods) != 0) return -1;
  if (PyModule_AddFunctions(module, thread_frames_methods) != 0) return -1;
  if (PyModule_AddFunctions(module, wire_marshal_methods) != 0) return -1;
  if (install_thread_frames(module) != 0) return -1;
  return PyModule_AddIntConstant(module, "LOAN_THRESHOLD",
                                 static_cast<long>(detail::kLoanThreshold));
}

int core_traverse(PyObject* module, visitproc visit, void* arg) {
  ModuleState* state = module_state(module);
  Py_VISIT(state->shared_buffer_type);
  Py_VISIT(state->pool_type);
  Py_VISIT(state->task_type);
  Py_VISIT(state->buffer_finder_type);
  return 0;
}

int core_clear(PyObject* module) {
  ModuleState* state = module_state(module);
  Py_CLEAR(state->shared_buffer_type);
  Py_CLEAR(state->pool_type);
  Py_CLEAR(state->task_type);
  Py_CLEAR(state->buffer_finder_type);
  return 0;
}

void core_free(void* module) { core_clear(static_cast<PyObject*>(module)); }

PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(core_exec)},
    // Every worker imports this module: state lives in module state, never in globals.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, nullptr},
};

PyModuleDef core_def = {
    PyModuleDef_HEAD_INIT,
    "pergil._core",
    "Engine of pergil: own-GIL worker pools and memory shared between interpreters.",
    sizeof(ModuleState),
    core_methods,
    core_slots,
    core_traverse,
    core_clear,
    core_free,
};

}  // namespace

}  // namespace pergil::python

PyMODINIT_FUNC PyInit__core() { return PyModuleDef_Init(&pergil::python::core_def); }
