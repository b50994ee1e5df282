// job.h: one unit of work run by a worker in its own interpreter, and its life cycle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace pergil::detail {

class WorkerContext;

enum class JobState : int { kPending, kRunning, kDone, kCancelled };

// Why a job stopped early or never ran.
enum class StopReason : int { kNone, kCancelled, kTimedOut, kShutdown, kBroken };

// A job is created by a caller, queued in a pool and run by exactly one worker, or discarded.
// Every job ends through exactly one of run() or discard(): a completion is never lost.
class Job {
 public:
  virtual ~Job() = default;

  // Runs on a worker thread with that worker's interpreter attached (its GIL held).
  // Contract: must not throw and must leave no Python exception set. If the code it runs is
  // interrupted, PyErr_ExceptionMatches(worker.interrupt_type()) holds and stop_reason() says why.
  virtual void run(WorkerContext& worker) = 0;
  // The job will never run. May be called on any thread, with no GIL held. Must not throw.
  virtual void discard(StopReason why, const std::string& message) noexcept = 0;

  uint64_t id() const { return id_; }
  JobState state() const { return state_.load(std::memory_order_acquire); }
  StopReason stop_reason() const { return stop_reason_.load(std::memory_order_acquire); }
  // When a worker began running it. Valid only once state() is kRunning or kDone: the worker
  // writes it before the kPending -> kRunning transition, whose release publishes it.
  std::chrono::steady_clock::time_point started() const { return started_; }
  // Seconds the job may run once started; 0 means no limit.
  double timeout = 0.0;

 private:
  friend class WorkerPool;
  friend class Worker;
  friend class Interrupter;

  bool transition(JobState from, JobState to) {
    return state_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
  }

  uint64_t id_ = 0;
  std::atomic<JobState> state_{JobState::kPending};
  std::atomic<StopReason> stop_reason_{StopReason::kNone};
  std::atomic<int> worker_index_{-1};
  std::chrono::steady_clock::time_point started_;
};

}  // namespace pergil::detail
