// value_call_job.h: a "module:function" call with Value arguments, run by one pool worker.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "call.h"
#include "engine/job.h"
#include "pergil/pool.h"

namespace pergil::detail {

// Converts its arguments to Python objects in the worker, calls the target (resolved once per
// interpreter), converts the result back, and completes through `on_done` exactly once: from
// run() on the worker thread with the worker's GIL released, or from discard() on the thread
// that cancels, shuts down or breaks the pool.
class ValueCallJob final : public Job {
 public:
  // `events` (may be null or empty) hears of the call's start and end as call `task`.
  ValueCallJob(Target target, std::vector<Value> args, std::function<void(Result)> on_done,
               uint64_t task = 0,
               std::shared_ptr<std::function<void(const TaskEvent&)>> events = nullptr);

  void run(WorkerContext& worker) override;
  void discard(StopReason why, const std::string& message) noexcept override;

 private:
  // noexcept: a callback that throws has nowhere to report to, so that terminates.
  void finish(Result result) noexcept;
  void emit(TaskEvent::Kind kind, size_t worker) const;

  Target target_;
  std::vector<Value> args_;
  std::function<void(Result)> on_done_;
  uint64_t task_;
  std::shared_ptr<std::function<void(const TaskEvent&)>> events_;
};

// The worker initializer of a pool: target(*args), once per worker.
struct Initializer {
  Target target;
  std::vector<Value> args;
};

// Runs the initializer in a worker; on failure fills `error` with its traceback and returns
// false (which breaks the pool). Contract: the worker's GIL is held.
bool run_initializer(WorkerContext& worker, const Initializer& init, std::string* error);

}  // namespace pergil::detail
