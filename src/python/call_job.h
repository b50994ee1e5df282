// call_job.h: a pickled Python call run in a worker, and the queue its completion goes to.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../engine/buffer.h"
#include "../engine/job.h"
#include "../engine/worker.h"

namespace pergil::python {

// Outcome codes shared with pergil/_executor.py.
enum Status : int {
  kOk = 0,         // stream: the pickled result
  kRaised = 1,     // stream: the pickled exception package
  kCancelled = 2,  // interrupted or discarded by cancel()
  kTimedOut = 3,   // interrupted at its deadline
  kFailed = 4,     // the worker could not run the call; message says why
  kShutdown = 5,   // discarded by shutdown(cancel_futures=True)
  kBroken = 6,     // discarded because the pool broke; message says why
};

// A pickle stream plus its out-of-band buffers: the only form in which calls and results cross.
struct Payload {
  detail::Buffer stream;
  std::vector<detail::Buffer> buffers;
};

struct Completion {
  uint64_t id = 0;
  Status status = kOk;
  Payload payload;
  std::string message;
};

// Completions of one pool, consumed in the main interpreter by one waker thread; also carries
// releases of loans on main-interpreter objects (arguments lent to workers).
class CompletionQueue {
 public:
  CompletionQueue();
  void push(Completion completion);
  // Waits (the GIL must be released by the caller) until completions, reclaims or close.
  // Returns false once closed and empty.
  bool wait(std::vector<Completion>* out, double timeout_seconds);
  void close();
  const std::shared_ptr<detail::ReclaimQueue>& main_reclaims() const { return reclaims_; }

 private:
  void notify();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Completion> done_;
  bool closed_ = false;
  std::shared_ptr<detail::ReclaimQueue> reclaims_;
};

class PickledCallJob final : public detail::Job {
 public:
  PickledCallJob(Payload call, std::shared_ptr<CompletionQueue> completions)
      : call_(std::move(call)), completions_(std::move(completions)) {}

  void run(detail::WorkerContext& worker) override;
  void discard(detail::StopReason why, const std::string& message) noexcept override;

 private:
  void finish(Completion completion);

  Payload call_;
  std::shared_ptr<CompletionQueue> completions_;
};

// The worker-side module pergil._worker of the current worker, imported once per interpreter.
PyObject* worker_module(detail::WorkerContext& worker);

// "Type: message" of the raised exception, which is cleared. Contract: an exception is set.
std::string describe_raised_exception();

}  // namespace pergil::python
