// interpreter.cpp: creating and ending own-GIL sub-interpreters.
#include "interpreter.h"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

namespace pergil::detail {

namespace {
// One process-wide lock around creating, starting and ending interpreters.
//
// Creating and ending: upstream reports races in interpreter creation that only TSan sees
// (gh-129824, gh-122581); creation costs ~6 ms and ending ~1 ms, so serializing them costs
// nothing measurable.
//
// Starting (creation through the worker's preparation: its imports and the initializer):
// CPython 3.12 and 3.13 give every immutable type (every _io type, every type of an isolated
// extension module, in each interpreter) its version tag from one process-global counter,
// incremented with no lock and no atomic (`NEXT_GLOBAL_VERSION_TAG++` in typeobject.c's
// assign_version_tag; gh-95795, gh-116909). Two interpreters assigning tags at once can lose
// an increment, the counter goes back, and two types of one interpreter share a tag: its type
// cache then hands one type's method to the other. Seen on 3.12.1 in CI: "descriptor 'close'
// for '_io.BufferedReader' objects doesn't apply to a '_io.FileIO' object" in a new
// interpreter's first imports, one worker's start racing the next one's creation. An
// interpreter assigns most of its tags while it starts (its builtin modules' types, then the
// imports of its preparation), so no two interpreters start at once, and none ends meanwhile.
// What still runs beside a start: tasks of started workers and the main interpreter, which
// assign a tag only when they first use a new immutable type (a first import).
// The cost: the workers of a pool start one after another (~4 ms each plus its initializer).
constexpr bool kSerializeStartUp = PY_VERSION_HEX < 0x030E0000;  // the counter as in 3.12/3.13

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

  std::unique_lock<std::mutex> lock(lifecycle_mutex());
  PyStatus status = Py_NewInterpreterFromConfig(&thread_state_, &config);
  if (kSerializeStartUp)
    starting_ = std::move(lock);  // until started()
  else
    lock.unlock();
  // Py_NewInterpreterFromConfig reports failure through PyStatus, not a Python exception.
  if (PyStatus_Exception(status) || thread_state_ == nullptr) {
    std::string why = status.err_msg ? status.err_msg : "unknown error";
    throw std::runtime_error("cannot create an own-GIL sub-interpreter: " + why);
  }
  interp_ = PyThreadState_GetInterpreter(thread_state_);
  thread_ident_ = PyThread_get_thread_ident();
  live_interpreters.fetch_add(1, std::memory_order_acq_rel);
}

void OwnGilInterpreter::started() noexcept {
  if (starting_.owns_lock()) starting_.unlock();
}

OwnGilInterpreter::~OwnGilInterpreter() {
  started();  // a worker that failed to prepare ends without having called it
  std::lock_guard<std::mutex> lock(lifecycle_mutex());
  Py_EndInterpreter(thread_state_);  // leaves no thread state current and no GIL held
  live_interpreters.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace pergil::detail
