// runtime.h: pergil::Runtime, the embedded Python that pools run their workers in.
#pragma once

#include <string>

#include "pergil/export.h"

namespace pergil {

struct RuntimeOptions {
  // The Python executable (for example a virtual environment's bin/python) that the embedded
  // Python takes as its own when this Runtime starts it: its prefix, its site-packages and
  // sys.executable follow, as if that program ran. It must be the Python version pergil was
  // built for. Empty: Python's default search (the PYTHONHOME/PYTHONPATH environment, then the
  // python3 on PATH). Ignored when the host started Python.
  std::string python_executable;
};

// Starts Python (Py_InitializeEx without signal handlers) if the host has not, and otherwise
// uses the host's interpreter. One Runtime may exist at a time.
//
// Rules:
// - Construct and destroy it on the same thread (normally the host's main thread).
// - Destroy every Pool before the Runtime, and before the host finalizes Python: a worker
//   interpreter still alive at Py_FinalizeEx aborts the process on Python 3.12. As a safety
//   net, ~Runtime and an atexit hook registered in the main interpreter shut down (cancel
//   pending, interrupt running, wait) any pool still alive; such a pool then accepts nothing.
// - If this Runtime started Python, it returns from its constructor with the GIL released
//   (so other threads and the workers can run) and finalizes Python in its destructor. A host
//   thread that wants to use the Python C API meanwhile uses PyGILState_Ensure/Release.
// - If the host started Python, the Runtime takes nothing from it: the GIL stays as it was, and
//   the destructor leaves Python running. Construct it on a thread that holds the main GIL, or
//   while no thread does (it attaches briefly to register its atexit hook).
class PERGIL_API Runtime {
 public:
  // Throws std::logic_error if another Runtime is alive, pergil::Error if Python cannot start.
  Runtime();
  explicit Runtime(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Whether this Runtime started Python (and so finalizes it).
  bool owns_python() const noexcept { return owns_python_; }
  // The version of the Python that pergil runs, as "3.13.0".
  static std::string python_version();

 private:
  bool owns_python_ = false;
  void* main_thread_state_ = nullptr;  // PyThreadState* saved after starting Python
};

}  // namespace pergil
