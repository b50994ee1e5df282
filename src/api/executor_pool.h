// executor_pool.h: the kSerial, kThreads and kProcesses modes of pergil::Pool, run by Python's
// concurrent.futures executors in the main interpreter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "call.h"
#include "pergil/pool.h"

namespace pergil::detail {

struct ExecutorShared;

// Holds a ThreadPoolExecutor or ProcessPoolExecutor and the runner namespace (main-interpreter
// objects, used only with the main GIL held). Every method attaches to the main interpreter
// itself. Contract: Python is running; it may have ended by the destructor (then nothing is
// released: Python freed it all).
class ExecutorPool {
 public:
  ExecutorPool(Mode mode, size_t workers, std::vector<std::string> sys_path,
               const std::string& initializer, const std::vector<Value>& initializer_args,
               std::shared_ptr<std::function<void(const TaskEvent&)>> events);
  ~ExecutorPool();
  ExecutorPool(const ExecutorPool&) = delete;
  ExecutorPool& operator=(const ExecutorPool&) = delete;

  // Queues target(*args) as call `id`; on_done is called exactly once. Throws BrokenPoolError or
  // pergil::Error (shut down), as the engine's pool does.
  void submit(uint64_t id, const Target& target, std::vector<Value> args,
              std::function<void(Result)> on_done);
  // future.cancel() of call `id`: false if it runs or has ended.
  bool cancel(uint64_t id);
  void shutdown(bool wait, bool cancel_pending, bool interrupt_running);
  size_t size() const { return workers_; }

 private:
  Mode mode_;
  size_t workers_;
  std::vector<std::string> sys_path_;
  std::shared_ptr<ExecutorShared> shared_;  // also held by each call's callbacks
};

}  // namespace pergil::detail
