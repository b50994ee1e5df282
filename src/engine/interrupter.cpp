// interrupter.cpp: cancel and deadline requests, delivered as an async exception in the worker.
#include "interrupter.h"

#include <vector>

#include "worker_pool.h"

namespace pergil::detail {

Interrupter::Interrupter(WorkerPool& pool) : pool_(pool), thread_([this] { main(); }) {}

Interrupter::~Interrupter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Interrupter::request(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    now_.push_back(job);
  }
  wake_.notify_all();
}

void Interrupter::watch(const std::shared_ptr<Job>& job,
                        std::chrono::steady_clock::time_point when) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deadlines_.emplace(when, job);
  }
  wake_.notify_all();
}

void Interrupter::main() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    std::vector<std::pair<std::shared_ptr<Job>, StopReason>> due;
    for (auto& weak : now_)
      if (auto job = weak.lock()) due.emplace_back(std::move(job), StopReason::kCancelled);
    now_.clear();
    auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      if (auto job = deadlines_.begin()->second.lock())
        due.emplace_back(std::move(job), StopReason::kTimedOut);
      deadlines_.erase(deadlines_.begin());
    }
    if (due.empty()) {
      if (deadlines_.empty())
        wake_.wait(lock);
      else
        wake_.wait_until(lock, deadlines_.begin()->first);
      continue;
    }
    lock.unlock();
    for (auto& [job, reason] : due) {
      if (job->state() != JobState::kRunning) continue;
      StopReason none = StopReason::kNone;
      job->stop_reason_.compare_exchange_strong(none, reason);
      interrupt(job);
    }
    lock.lock();
  }
}

void Interrupter::interrupt(const std::shared_ptr<Job>& job) {
  int index = job->worker_index_.load(std::memory_order_acquire);
  if (index < 0 || static_cast<size_t>(index) >= pool_.workers_.size()) return;
  pool_.workers_[static_cast<size_t>(index)]->interrupt(job->id());
}

}  // namespace pergil::detail
