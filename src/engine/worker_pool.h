// worker_pool.h: a fixed set of workers, a job queue, cancellation, deadlines and shutdown.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "job.h"
#include "worker.h"

namespace pergil::detail {

struct PoolOptions {
  size_t workers = 1;
  // Replaces each worker's sys.path (so a module the caller can import, a worker can import).
  std::vector<std::string> sys_path;
  // Switch interval set in each worker: bounds how long an interrupter waits for its GIL.
  double switch_interval = 0.001;
  // How long one idle worker at a time polls for the next job before it parks: a job that
  // arrives meanwhile costs its submitter no wake-up system call and its worker no sleep
  // (most of a tiny task's cost on a VM). 0 parks at once.
  double spin_seconds = 50e-6;
  // Runs once in each worker after creation, with its GIL held. Returns false and fills the
  // message to mark the pool broken: queued and later jobs are then discarded.
  std::function<bool(WorkerContext&, std::string*)> initialize;
  // Runs on the thread of the last worker to end, with no GIL held.
  std::function<void()> on_all_workers_ended;
};

enum class CancelOutcome { kCancelled, kInterrupting, kTooLate };

class Interrupter;

class WorkerPool {
 public:
  explicit WorkerPool(PoolOptions options);
  // Shuts down (waiting) if that was not done. Contract: the calling thread holds no GIL.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a job. Throws std::runtime_error if the pool is shut down or broken; the job is
  // then untouched. Any thread, any GIL.
  void submit(std::shared_ptr<Job> job);
  // Cancels a pending job (discarded with kCancelled) or interrupts a running one.
  CancelOutcome cancel(const std::shared_ptr<Job>& job);
  // Interrupts every running job (used on Ctrl-C in the caller).
  void interrupt_running();
  // Stops accepting jobs; optionally discards queued ones and interrupts running ones; with
  // `wait`, joins the workers (every interpreter has ended on return). Contract: no GIL held.
  void shutdown(bool wait, bool cancel_pending, bool interrupt_running);

  size_t size() const { return workers_.size(); }
  bool broken() const;
  std::string broken_reason() const;
  bool accepting() const;
  const PoolOptions& options() const { return options_; }

 private:
  friend class Worker;
  friend class Interrupter;

  struct Next {
    std::shared_ptr<Job> job;
    bool stop = false;
  };
  // Blocks (no GIL held) until a job, a reclaim for `reclaims` or a stop arrives.
  Next wait_for_work(const ReclaimQueue& reclaims);
  // Polls, without the lock, until an event may have arrived or spin_seconds passed.
  void spin(uint64_t seen_events, const ReclaimQueue& reclaims) const;
  void mark_broken(const std::string& reason);
  void wake_workers();
  void worker_ended();
  void discard_queued(StopReason why, const std::string& message);
  void watch_deadline(const std::shared_ptr<Job>& job);
  // Records `job` as running on `worker`; false once a shutdown cancelled unstarted jobs (a job
  // a worker took from the queue but has not started is one of those).
  bool admit(size_t worker, const std::shared_ptr<Job>& job);
  void set_running(size_t worker, const std::shared_ptr<Job>& job);
  Interrupter& interrupter();

  PoolOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t spinners_ = 0;                      // workers polling in spin(), at most one
  std::atomic<uint64_t> events_{0};          // bumped under mutex_ by anything a worker waits for
  std::vector<std::weak_ptr<Job>> running_;  // indexed by worker
  bool accepting_ = true;
  bool stopping_ = false;
  bool discard_unstarted_ = false;  // set by shutdown(cancel_pending or interrupt)
  std::string broken_reason_;
  size_t workers_alive_ = 0;
  uint64_t next_id_ = 1;

  std::mutex join_mutex_;  // serializes joining workers and stopping the interrupter
  std::mutex interrupter_mutex_;
  std::unique_ptr<Interrupter> interrupter_;
};

}  // namespace pergil::detail
