// interpreter.cpp: creating and ending own-GIL sub-interpreters.
#include "interpreter.h"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

namespace pergil::detail {

namespace {
// One process-wide lock around creating and ending interpreters. Upstream reports races in
// interpreter creation that only TSan sees (gh-129824, gh-122581); creation costs ~6 ms and
// ending ~1 ms, so serializing them costs nothing measurable.
std::mutex& lifecycle_mutex() {
  static std::mutex m;
  return m;
}

std::atomic<int> live_interpreters{0};
}  // namespace

int live_interpreter_count() { return live_interpreters.load(std::memory_order_acquire); }

OwnGilInterpreter::OwnGilInterpreter() {
  PyInterpreterConfig config = {};
  config.use_main_obmalloc = 0;  // required for an own GIL
  config.allow_fork = 0;
  config.allow_exec = 0;
  config.allow_threads = 1;
  config.allow_daemon_threads = 0;  // the interpreter must be able to join every thread it ends
  config.check_multi_interp_extensions = 1;  // refuse extension modules without isolation
  config.gil = PyInterpreterConfig_OWN_GIL;

  PyStatus status;
  {
    std::lock_guard<std::mutex> lock(lifecycle_mutex());
    status = Py_NewInterpreterFromConfig(&thread_state_, &config);
  }
  // Py_NewInterpreterFromConfig reports failure through PyStatus, not a Python exception.
  if (PyStatus_Exception(status) || thread_state_ == nullptr) {
    std::string why = status.err_msg ? status.err_msg : "unknown error";
    throw std::runtime_error("cannot create an own-GIL sub-interpreter: " + why);
  }
  interp_ = PyThreadState_GetInterpreter(thread_state_);
  thread_ident_ = PyThread_get_thread_ident();
  live_interpreters.fetch_add(1, std::memory_order_acq_rel);
}

OwnGilInterpreter::~OwnGilInterpreter() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex());
  Py_EndInterpreter(thread_state_);  // leaves no thread state current and no GIL held
  live_interpreters.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace pergil::detail
