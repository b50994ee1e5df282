// interpreter.h: ownership of one own-GIL sub-interpreter by the thread that created it.
#pragma once

#include <Python.h>

#include <mutex>

namespace pergil::detail {

// An own-GIL sub-interpreter (PEP 684) owned by the thread that created it.
// Construction and destruction must happen on the SAME OS thread: ending an interpreter from
// another thread leaves the creator's GIL-state slot pointing at a freed thread state.
class OwnGilInterpreter {
 public:
  // Creates the interpreter. Contract: the calling thread holds no GIL and the main interpreter
  // is initialized. Returns with the new interpreter's GIL held and its thread state current,
  // and still holding the process-wide start-up lock (see interpreter.cpp) until
  // started() is called: prepare the interpreter (imports, initializer) before that.
  // Throws std::runtime_error with CPython's message if creation fails.
  OwnGilInterpreter();
  // Ends the start-up phase: releases the start-up lock. Idempotent.
  void started() noexcept;
  // Ends the interpreter (Py_EndInterpreter). Contract: called on the creating thread, with
  // this interpreter's thread state current and no other thread state alive in it.
  ~OwnGilInterpreter();
  OwnGilInterpreter(const OwnGilInterpreter&) = delete;
  OwnGilInterpreter& operator=(const OwnGilInterpreter&) = delete;

  PyThreadState* thread_state() const { return thread_state_; }
  PyInterpreterState* state() const { return interp_; }
  // Identifier of the owning OS thread, as PyThreadState_SetAsyncExc expects it.
  unsigned long thread_ident() const { return thread_ident_; }

 private:
  PyThreadState* thread_state_ = nullptr;
  PyInterpreterState* interp_ = nullptr;
  unsigned long thread_ident_ = 0;
  std::unique_lock<std::mutex> starting_;  // the start-up lock, held until started()
};

// Own-GIL interpreters alive in this process (created and not yet ended), any thread.
int live_interpreter_count();

}  // namespace pergil::detail
