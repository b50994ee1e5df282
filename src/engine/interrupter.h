// interrupter.h: the pool's thread that stops running jobs (cancel, deadline, Ctrl-C).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "job.h"

namespace pergil::detail {

class WorkerPool;

// Interrupting a worker means taking its GIL, which waits for the running job to reach the
// end of a switch interval; that wait happens here, never on the caller's thread.
// This thread is attached to no interpreter except while it interrupts one worker.
class Interrupter {
 public:
  explicit Interrupter(WorkerPool& pool);
  ~Interrupter();  // stops and joins the thread
  Interrupter(const Interrupter&) = delete;
  Interrupter& operator=(const Interrupter&) = delete;

  // Interrupts `job` as soon as possible if it is still running.
  void request(const std::shared_ptr<Job>& job);
  // Interrupts `job` at `when` if it is still running then (its stop reason: kTimedOut).
  void watch(const std::shared_ptr<Job>& job, std::chrono::steady_clock::time_point when);

 private:
  void main();
  void interrupt(const std::shared_ptr<Job>& job);

  WorkerPool& pool_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::weak_ptr<Job>> now_;
  std::multimap<std::chrono::steady_clock::time_point, std::weak_ptr<Job>> deadlines_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pergil::detail
