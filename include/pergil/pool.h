// pool.h: pergil::Pool, own-GIL Python workers that run "module:function" calls on all cores.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pergil/errors.h"
#include "pergil/export.h"
#include "pergil/mode.h"
#include "pergil/runtime.h"
#include "pergil/value.h"

namespace pergil {

namespace detail {
class ExecutorPool;
class WorkerPool;
}  // namespace detail

// A call starting or ending on a worker, for hosts that show or measure where calls ran.
struct TaskEvent {
  enum class Kind { kStarted, kFinished };
  Kind kind = Kind::kStarted;
  // The call's number in its pool: the n-th call submitted (by submit or map) has id n, from 0.
  uint64_t task = 0;
  // The worker that ran it, 0 to Pool::size() - 1 (for kProcesses: worker processes in the
  // order they first reported, so a replaced process may take an index again).
  size_t worker = 0;
  // When it started or ended, on the steady clock (CLOCK_MONOTONIC, the clock of Python's
  // time.monotonic, also in worker processes).
  std::chrono::steady_clock::time_point time;
};

struct PoolOptions {
  // How calls run (see mode.h). kSerial always has one worker.
  Mode mode = Mode::kInterpreters;
  // Number of workers (each an OS thread with its own interpreter); 0 means one per hardware
  // thread.
  size_t workers = 0;
  // Directories put in front of each worker's sys.path, which otherwise is a copy of the main
  // interpreter's sys.path when the pool is created.
  std::vector<std::string> sys_path;
  // "module:function" called once in each worker before it runs calls; empty for none. If it
  // raises, the pool is broken: its calls fail with BrokenPoolError carrying the traceback.
  std::string initializer;
  std::vector<Value> initializer_args;
  // Called for each call that starts (kStarted) and then ends, whatever its outcome
  // (kFinished, just before its completion callback); calls cancelled before they start get
  // neither. Runs on the worker thread, or for kThreads/kSerial on the executor's thread and
  // for kProcesses on the executor's result thread, where kStarted and kFinished arrive
  // together when the call has ended. Must be quick, must not throw, must not use the pool.
  std::function<void(const TaskEvent&)> on_task_event;
};

// The outcome of one call, given to a completion callback: a Value or an exception
// (PythonError, CancelledError, BrokenPoolError, or std::bad_alloc and the like).
class PERGIL_API Result {
 public:
  static Result success(Value value) noexcept;
  static Result failure(std::exception_ptr error) noexcept;

  bool ok() const noexcept { return !error_; }
  // The value; rethrows the error if the call failed.
  const Value& value() const&;
  Value value() &&;
  // Null if the call succeeded.
  std::exception_ptr error() const noexcept { return error_; }
  // what() of the error, or "" if the call succeeded.
  std::string error_message() const;

 private:
  Result() = default;
  Value value_;
  std::exception_ptr error_;
};

// A handle on a call submitted with a callback.
class PERGIL_API Task {
 public:
  Task() = default;
  // Cancels the call: if it has not started, its callback gets CancelledError (kCancelled) at
  // once on this thread; if it is running, the worker raises an interrupt in its Python code
  // (effective at the next bytecode boundary, so a blocking C call stops only when it returns).
  // Returns false if the call had already finished, or its pool is gone.
  // kThreads and kSerial cannot stop a running call (it runs to its end); kProcesses cannot
  // either, short of Pool::shutdown with interrupt_running, which ends the worker processes.
  bool cancel();
  // The call's number in its pool (see TaskEvent::task).
  uint64_t id() const noexcept { return id_; }

 private:
  friend class Pool;
  Task(uint64_t id, std::function<bool()> canceller) : id_(id), canceller_(std::move(canceller)) {}
  uint64_t id_ = 0;
  std::function<bool()> canceller_;  // holds the pool and the call weakly
};

// A fixed set of workers, each an OS thread owning one own-GIL sub-interpreter (PEP 684), and a
// queue of calls. A call names a function by "module:function" (the function may be a dotted
// "Class.method"), which each worker imports and caches once; arguments and results travel as
// Values, converted in the worker: no pickling, no pergil Python package needed.
//
// Threads: submit, map, shutdown and size may be called from any host thread at once, with or
// without the main interpreter's GIL (pergil releases it while it waits); construction,
// destruction and moves must not race with other uses. Callbacks run on a worker thread (or
// on the thread that cancels or shuts down, for calls that never ran), with no GIL held; they
// must be quick, must not throw (that terminates), and must not destroy or wait on this pool.
// The functions run in sub-interpreters: pure Python and isolated extension modules only.
// PoolOptions::mode selects the comparison modes instead (threads, processes, serial), which run
// the same calls in the main interpreter with concurrent.futures (see mode.h).
class PERGIL_API Pool {
 public:
  // Starts the workers and returns without waiting for them to be ready.
  // Throws std::invalid_argument for a malformed initializer target.
  explicit Pool(Runtime& runtime, PoolOptions options = {});
  // shutdown(/*wait=*/true): queued calls still run.
  ~Pool();
  Pool(Pool&& other) noexcept;
  Pool& operator=(Pool&& other) noexcept;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Queues target(*args). The future holds the result or throws PythonError, CancelledError
  // or BrokenPoolError. Throws std::invalid_argument for a malformed target, BrokenPoolError if
  // the pool is broken, pergil::Error if it is shut down.
  std::future<Value> submit(std::string_view target, std::vector<Value> args = {});
  // The same, completing through `on_done`, called exactly once (see Threads above); throws
  // std::invalid_argument if `on_done` is empty.
  Task submit(std::string_view target, std::vector<Value> args,
              std::function<void(Result)> on_done);
  // target(input) for each input, in parallel; results in input order. If a call fails, the
  // rest are cancelled and waited for, then the first failure in input order is rethrown.
  std::vector<Value> map(std::string_view target, std::vector<Value> inputs);

  // Stops accepting calls. cancel_pending: queued calls fail with CancelledError (kShutdown).
  // interrupt_running: running calls are interrupted (CancelledError, kCancelled).
  // wait: returns once every worker has ended. Repeatable.
  // Modes other than kInterpreters: running calls of kThreads and kSerial run to their end
  // (Python threads cannot be stopped); for kProcesses, interrupt_running terminates the worker
  // processes and their running calls fail with CancelledError.
  void shutdown(bool wait = true, bool cancel_pending = false, bool interrupt_running = false);

  // Number of workers.
  size_t size() const;
  // The mode it was created with.
  Mode mode() const;

 private:
  Task enqueue(std::string_view target, std::vector<Value> args,
               std::function<void(Result)> on_done);
  void check_usable() const;
  void release() noexcept;

  // Exactly one is set (kInterpreters: pool_), both null once moved from.
  std::shared_ptr<detail::WorkerPool> pool_;
  std::shared_ptr<detail::ExecutorPool> executor_;
  std::shared_ptr<std::function<void(const TaskEvent&)>> events_;
  std::shared_ptr<std::atomic<uint64_t>> next_id_;
  Mode executor_mode_ = Mode::kInterpreters;
};

}  // namespace pergil
