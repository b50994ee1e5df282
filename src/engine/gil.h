// gil.h: RAII guards for GILs and thread states of own-GIL interpreters.
#pragma once

#include <Python.h>

namespace pergil::detail {

// Releases the calling thread's GIL (and detaches its thread state) for the guard's lifetime.
// Contract: the calling thread holds a GIL. Blocking waits on any interpreter's thread must
// release that GIL first, so that interrupters and signal handling can still run.
class ReleasedGil {
 public:
  ReleasedGil() : saved_(PyEval_SaveThread()) {}
  // noexcept(false): once the interpreter finalizes, CPython 3.12/3.13 end any other thread
  // that takes a GIL (a daemon thread returning from a pergil call) with pthread_exit inside
  // PyEval_RestoreThread, a forced unwind; through a noexcept destructor that would be
  // std::terminate, a process abort. Letting it pass ends the thread as in pure C code. It
  // runs the cleanups of the frames up to CPython's without a GIL: functions that hold a
  // ReleasedGil keep no Python objects (Ref) alive across it, and no noexcept function or
  // catch (...) may hold one.
  ~ReleasedGil() noexcept(false) { PyEval_RestoreThread(saved_); }
  ReleasedGil(const ReleasedGil&) = delete;
  ReleasedGil& operator=(const ReleasedGil&) = delete;

 private:
  PyThreadState* saved_;
};

// Attaches the calling thread to `interp` with a fresh thread state, taking that interpreter's
// GIL; clears and deletes the thread state on destruction.
// Contract: the calling thread is attached to no interpreter (holds no GIL). Do not use
// PyGILState_* instead: on a worker thread it returns the worker's own thread state.
class TemporaryThreadState {
 public:
  explicit TemporaryThreadState(PyInterpreterState* interp) : state_(PyThreadState_New(interp)) {
    PyEval_RestoreThread(state_);
  }
  ~TemporaryThreadState() {
    PyThreadState_Clear(state_);
    PyThreadState_DeleteCurrent();  // also releases the GIL
  }
  TemporaryThreadState(const TemporaryThreadState&) = delete;
  TemporaryThreadState& operator=(const TemporaryThreadState&) = delete;

 private:
  PyThreadState* state_;
};

// Owning reference to a PyObject of the interpreter whose GIL is held when it is destroyed.
// Contract: never destroy or copy it while another interpreter is attached.
class Ref {
 public:
  Ref() = default;
  static Ref steal(PyObject* o) { return Ref(o); }
  static Ref borrow(PyObject* o) {
    Py_XINCREF(o);
    return Ref(o);
  }
  Ref(Ref&& other) noexcept : obj_(other.obj_) { other.obj_ = nullptr; }
  Ref& operator=(Ref&& other) noexcept {
    if (this != &other) {
      Py_XDECREF(obj_);
      obj_ = other.obj_;
      other.obj_ = nullptr;
    }
    return *this;
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() { Py_XDECREF(obj_); }

  PyObject* get() const { return obj_; }
  PyObject* release() {
    PyObject* o = obj_;
    obj_ = nullptr;
    return o;
  }
  explicit operator bool() const { return obj_ != nullptr; }
  void reset() { Py_CLEAR(obj_); }

 private:
  explicit Ref(PyObject* o) : obj_(o) {}
  PyObject* obj_ = nullptr;
};

}  // namespace pergil::detail
