// value_call_job.cpp: running a Value call in a worker and completing it exactly once.
#include "value_call_job.h"

#include "engine/gil.h"

namespace pergil::detail {

ValueCallJob::ValueCallJob(Target target, std::vector<Value> args,
                           std::function<void(Result)> on_done, uint64_t task,
                           std::shared_ptr<std::function<void(const TaskEvent&)>> events)
    : target_(std::move(target)),
      args_(std::move(args)),
      on_done_(std::move(on_done)),
      task_(task),
      events_(std::move(events)) {
  if (events_ && !*events_) events_.reset();
}

void ValueCallJob::emit(TaskEvent::Kind kind, size_t worker) const {
  TaskEvent event;
  event.kind = kind;
  event.task = task_;
  event.worker = worker;
  event.time = std::chrono::steady_clock::now();
  (*events_)(event);
}

void ValueCallJob::run(WorkerContext& worker) {
  if (events_) {
    ReleasedGil released;  // host code runs with no GIL held
    emit(TaskEvent::Kind::kStarted, worker.index());
  }
  Result result = call_target(worker, target_, args_, /*convert_result=*/true);
  args_ = {};
  // The host's callback runs with no GIL held: it may wait briefly or submit more calls, and
  // an interrupter is never kept waiting for this worker's GIL meanwhile.
  ReleasedGil released;
  if (events_) emit(TaskEvent::Kind::kFinished, worker.index());
  finish(std::move(result));
}

void ValueCallJob::discard(StopReason why, const std::string& message) noexcept {
  std::exception_ptr error;
  switch (why) {
    case StopReason::kBroken:
      error = std::make_exception_ptr(BrokenPoolError("the pool is broken: " + message));
      break;
    case StopReason::kShutdown:
      error = std::make_exception_ptr(
          CancelledError(CancelReason::kShutdown, "the call was " + message));
      break;
    default:
      error = std::make_exception_ptr(
          CancelledError(CancelReason::kCancelled, "the call was cancelled before it ran"));
      break;
  }
  args_ = {};
  finish(Result::failure(std::move(error)));
}

void ValueCallJob::finish(Result result) noexcept {
  std::function<void(Result)> on_done = std::move(on_done_);
  on_done_ = nullptr;
  on_done(std::move(result));
}

bool run_initializer(WorkerContext& worker, const Initializer& init, std::string* error) {
  Result result = call_target(worker, init.target, init.args, /*convert_result=*/false);
  if (result.ok()) return true;
  std::string prefix = "the initializer " + init.target.text + " failed in a worker";
  try {
    std::rethrow_exception(result.error());
  } catch (const PythonError& e) {
    *error = prefix + ":\n" + e.traceback();
  } catch (const std::exception& e) {
    *error = prefix + ": " + e.what();
  } catch (...) {
    *error = prefix;
  }
  return false;
}

}  // namespace pergil::detail
