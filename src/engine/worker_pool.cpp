// worker_pool.cpp: queueing, cancelling and shutting down jobs across a pool's workers.
#include "worker_pool.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "interrupter.h"

namespace pergil::detail {

WorkerPool::WorkerPool(PoolOptions options) : options_(std::move(options)) {
  if (options_.workers == 0) throw std::invalid_argument("a pool needs at least one worker");
  running_.resize(options_.workers);
  workers_alive_ = options_.workers;
  for (size_t i = 0; i < options_.workers; ++i)
    workers_.push_back(std::make_unique<Worker>(*this, i));
  for (auto& worker : workers_) worker->start();
}

WorkerPool::~WorkerPool() { shutdown(/*wait=*/true, /*cancel_pending=*/true, false); }

void WorkerPool::submit(std::shared_ptr<Job> job) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!accepting_) {
    if (!broken_reason_.empty()) throw std::runtime_error("the pool is broken: " + broken_reason_);
    throw std::runtime_error("cannot schedule new work after shutdown");
  }
  job->id_ = next_id_++;
  queue_.push_back(std::move(job));
  // A spinning worker takes one queued job without being woken: wake a parked one only for
  // the jobs beyond that, so that jobs submitted together still start together.
  bool wake = queue_.size() > spinners_;
  events_.fetch_add(1, std::memory_order_release);
  lock.unlock();
  if (wake) work_ready_.notify_one();
}

CancelOutcome WorkerPool::cancel(const std::shared_ptr<Job>& job) {
  if (job->transition(JobState::kPending, JobState::kCancelled)) {
    job->stop_reason_.store(StopReason::kCancelled, std::memory_order_release);
    job->discard(StopReason::kCancelled, "cancelled");
    return CancelOutcome::kCancelled;
  }
  if (job->state() != JobState::kRunning) return CancelOutcome::kTooLate;
  StopReason none = StopReason::kNone;
  job->stop_reason_.compare_exchange_strong(none, StopReason::kCancelled);
  interrupter().request(job);
  return CancelOutcome::kInterrupting;
}

void WorkerPool::interrupt_running() {
  std::vector<std::shared_ptr<Job>> running;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& weak : running_)
      if (auto job = weak.lock()) running.push_back(std::move(job));
  }
  for (auto& job : running) cancel(job);
}

void WorkerPool::shutdown(bool wait, bool cancel_pending, bool interrupt) {
  std::string broken_reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    stopping_ = true;
    if (cancel_pending || interrupt) discard_unstarted_ = true;
    events_.fetch_add(1, std::memory_order_release);
    broken_reason = broken_reason_;
  }
  // A broken pool's queued jobs end as broken, even when this shutdown empties the queue
  // before mark_broken's own discard_queued does.
  if (cancel_pending && !broken_reason.empty())
    discard_queued(StopReason::kBroken, broken_reason);
  else if (cancel_pending)
    discard_queued(StopReason::kShutdown, "cancelled by shutdown");
  if (interrupt) interrupt_running();
  work_ready_.notify_all();
  if (!wait) return;
  std::lock_guard<std::mutex> lock(join_mutex_);
  for (auto& worker : workers_) worker->join();
  std::lock_guard<std::mutex> interrupter_lock(interrupter_mutex_);
  interrupter_.reset();  // every worker has ended: nothing left to interrupt
}

bool WorkerPool::broken() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !broken_reason_.empty();
}

std::string WorkerPool::broken_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return broken_reason_;
}

bool WorkerPool::accepting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return accepting_;
}

WorkerPool::Next WorkerPool::wait_for_work(const ReclaimQueue& reclaims) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto ready = [&] { return !queue_.empty() || stopping_ || reclaims.has_pending(); };
  if (!ready() && spinners_ == 0 && options_.spin_seconds > 0) {
    ++spinners_;
    uint64_t seen = events_.load(std::memory_order_acquire);
    lock.unlock();
    spin(seen, reclaims);
    lock.lock();
    --spinners_;
  }
  work_ready_.wait(lock, ready);
  Next next;
  if (!queue_.empty()) {
    next.job = std::move(queue_.front());
    queue_.pop_front();
  } else {
    next.stop = stopping_;
  }
  return next;
}

void WorkerPool::spin(uint64_t seen_events, const ReclaimQueue& reclaims) const {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(options_.spin_seconds));
  for (unsigned round = 1;; ++round) {
    if (events_.load(std::memory_order_acquire) != seen_events || reclaims.has_pending()) return;
    if (round % 64 == 0 && std::chrono::steady_clock::now() >= until) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }
}

void WorkerPool::mark_broken(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_reason_.empty()) broken_reason_ = reason.empty() ? "a worker failed" : reason;
    accepting_ = false;
    stopping_ = true;
    events_.fetch_add(1, std::memory_order_release);
  }
  discard_queued(StopReason::kBroken, reason);
  work_ready_.notify_all();
}

void WorkerPool::wake_workers() {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.fetch_add(1, std::memory_order_release);
  work_ready_.notify_all();
}

void WorkerPool::worker_ended() {
  bool last;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last = --workers_alive_ == 0;
  }
  if (last && options_.on_all_workers_ended) options_.on_all_workers_ended();
}

void WorkerPool::discard_queued(StopReason why, const std::string& message) {
  std::deque<std::shared_ptr<Job>> queued;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queued.swap(queue_);
  }
  for (auto& job : queued) {
    if (!job->transition(JobState::kPending, JobState::kCancelled)) continue;
    job->stop_reason_.store(why, std::memory_order_release);
    job->discard(why, message);
  }
}

void WorkerPool::watch_deadline(const std::shared_ptr<Job>& job) {
  auto when = std::chrono::steady_clock::now() +
              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  std::chrono::duration<double>(job->timeout));
  interrupter().watch(job, when);
}

bool WorkerPool::admit(size_t worker, const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (discard_unstarted_) return false;
  running_[worker] = job;
  return true;
}

void WorkerPool::set_running(size_t worker, const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_[worker] = job;
}

Interrupter& WorkerPool::interrupter() {
  std::lock_guard<std::mutex> lock(interrupter_mutex_);
  if (!interrupter_) interrupter_ = std::make_unique<Interrupter>(*this);
  return *interrupter_;
}

}  // namespace pergil::detail
