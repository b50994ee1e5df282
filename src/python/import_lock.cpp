// import_lock.cpp: pergil._core.create_extension_serialized: a call made under a process-wide,
// per-module lock, so that no two interpreters create the same extension module at once.
//
// Why (CPython 3.12 only): ExtensionFileLoader.create_module runs a module's PyInit function in
// the importing interpreter, under that interpreter's GIL, before refusing a single-phase
// module in an own-GIL one. Two workers doing so at once run the same process-global C init
// concurrently (readline, _curses: heap corruption and aborts, within 30 rounds at 4 workers
// on 3.12.1). 3.13 runs every PyInit with the main interpreter active and its GIL held
// (gh-117953), which serializes them: pergil/_worker.py wires this in on 3.12 only.
//
// Lock, call and unlock happen inside this one C function, so an asynchronous interrupt (a
// cancelled task) can never land between taking the lock and the code that releases it: it
// surfaces inside the call, as an exception, and the guard unlocks on the way out.
//
// Why one lock per module name, each recursive: a module's init may import other extension
// modules, on the same thread (recursion: the same thread never waits for itself). Across
// threads, every thread takes importlib's per-module lock of X before X's lock here, and X's
// lock before any lock of a module that X's init imports: one order, so no cycle (a single
// process-wide lock would invert with importlib's module locks when two threads of one
// interpreter import nested extensions at once).
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "../engine/gil.h"
#include "core_module.h"

namespace pergil::python {

namespace {

// The lock of each extension module name ever created by a worker: a few dozen at most,
// kept for the process's life (never erased: a waiter may hold a reference to one; never
// destroyed: a worker may still import while static destructors run at exit).
std::recursive_mutex& module_lock(const std::string& name) {
  static std::mutex registry_mutex;
  static auto* registry = new std::map<std::string, std::unique_ptr<std::recursive_mutex>>();
  std::lock_guard<std::mutex> registry_guard(registry_mutex);  // never held while waiting
  auto& slot = (*registry)[name];
  if (!slot) slot = std::make_unique<std::recursive_mutex>();
  return *slot;
}

// Holds one module's lock for its lifetime. Contract: the calling thread holds its GIL; it
// waits, if it must, with that GIL released (the holder may be a thread of the same
// interpreter, which needs it), and returns with it held.
class ModuleLoadingGuard {
 public:
  explicit ModuleLoadingGuard(std::recursive_mutex& lock) : lock_(lock) {
    if (lock_.try_lock()) return;
    detail::ReleasedGil released;
    lock_.lock();
  }
  ~ModuleLoadingGuard() { lock_.unlock(); }
  ModuleLoadingGuard(const ModuleLoadingGuard&) = delete;
  ModuleLoadingGuard& operator=(const ModuleLoadingGuard&) = delete;

 private:
  std::recursive_mutex& lock_;
};

// create_extension_serialized(name, function, *args) -> function(*args), called while holding
// the lock of the extension module `name`.
PyObject* create_extension_serialized(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 2 || !PyUnicode_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError,
                    "create_extension_serialized(name: str, function, *args) expected");
    return nullptr;
  }
  Py_ssize_t size = 0;
  const char* name = PyUnicode_AsUTF8AndSize(args[0], &size);
  if (name == nullptr) return nullptr;
  ModuleLoadingGuard guard(module_lock(std::string(name, static_cast<size_t>(size))));
  return PyObject_Vectorcall(args[1], args + 2, static_cast<size_t>(nargs - 2), nullptr);
}

}  // namespace

PyMethodDef import_lock_methods[] = {
    {"create_extension_serialized",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(create_extension_serialized)),
     METH_FASTCALL,
     "create_extension_serialized(name, function, *args): function(*args) while holding the "
     "process-wide lock of extension module `name` (recursive per thread)."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pergil::python
