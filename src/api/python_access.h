// python_access.h: guards for host threads that call pergil with or without a GIL.
#pragma once

#include <Python.h>

namespace pergil::detail {

// The thread state attached to the calling thread, or null if it holds no GIL (also before
// Python starts and after it ends).
inline PyThreadState* attached_thread_state() {
#if PY_VERSION_HEX >= 0x030D0000
  return PyThreadState_GetUnchecked();
#else
  return _PyThreadState_UncheckedGet();
#endif
}

// Releases the GIL for the guard's lifetime if the calling thread holds one. Used around every
// blocking wait of the API, so a host may call pergil with the main GIL held: its other threads
// (and C libraries in workers that fall back to the main interpreter) keep running.
class GilReleasedIfHeld {
 public:
  GilReleasedIfHeld() : saved_(attached_thread_state() ? PyEval_SaveThread() : nullptr) {}
  ~GilReleasedIfHeld() {
    if (saved_ != nullptr) PyEval_RestoreThread(saved_);
  }
  GilReleasedIfHeld(const GilReleasedIfHeld&) = delete;
  GilReleasedIfHeld& operator=(const GilReleasedIfHeld&) = delete;

 private:
  PyThreadState* saved_;
};

// Attaches the calling host thread to the main interpreter unless it is attached already.
// Contract: Python is running and the calling thread is not a worker of a pool.
class MainInterpreterAttached {
 public:
  MainInterpreterAttached() : ensured_(attached_thread_state() == nullptr) {
    if (ensured_) state_ = PyGILState_Ensure();
  }
  ~MainInterpreterAttached() {
    if (ensured_) PyGILState_Release(state_);
  }
  MainInterpreterAttached(const MainInterpreterAttached&) = delete;
  MainInterpreterAttached& operator=(const MainInterpreterAttached&) = delete;

 private:
  bool ensured_;
  PyGILState_STATE state_{};
};

}  // namespace pergil::detail
