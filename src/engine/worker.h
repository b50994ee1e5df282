// worker.h: one OS thread that owns one own-GIL interpreter for its whole life.
#pragma once

#include <Python.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "buffer.h"
#include "gil.h"
#include "job.h"

namespace pergil::detail {

class WorkerPool;

// What a job may use of the worker it runs on. Lives on the worker thread; every PyObject in it
// belongs to the worker's interpreter and is used only with that interpreter's GIL held.
class WorkerContext {
 public:
  size_t index() const { return index_; }
  // The exception type that interrupts a running job (a BaseException subclass of this
  // interpreter, so user code catching Exception does not swallow it).
  PyObject* interrupt_type() const { return interrupt_type_.get(); }
  // Where loans on this interpreter's objects are released.
  const std::shared_ptr<ReclaimQueue>& reclaims() const { return reclaims_; }
  // Per-interpreter cache for job kinds (resolved functions, types). Cleared, under this
  // interpreter's GIL, before the interpreter ends: nothing in it outlives the interpreter.
  Ref& cached(const void* key) { return cache_[key]; }

 private:
  friend class Worker;
  size_t index_ = 0;
  Ref interrupt_type_;
  std::shared_ptr<ReclaimQueue> reclaims_;
  std::unordered_map<const void*, Ref> cache_;
};

class Worker {
 public:
  Worker(WorkerPool& pool, size_t index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void join();
  // Raises the interrupt exception in this worker if it is still running job `job_id`.
  // Contract: the calling thread holds no GIL. Returns whether the exception was set.
  bool interrupt(uint64_t job_id);
  size_t outstanding_loans() const;

 private:
  void main();
  bool prepare(std::string* error);
  void serve(PyThreadState* own);
  void run_job(const std::shared_ptr<Job>& job);
  void release_cache();

  WorkerPool& pool_;
  WorkerContext context_;
  std::thread thread_;
  std::atomic<uint64_t> current_job_{0};
  // Set (under this worker's GIL) when an interrupt was delivered: only then does the worker
  // pay for clearing it, since PyThreadState_SetAsyncExc takes the runtime-wide HEAD_LOCK.
  std::atomic<bool> interrupt_sent_{false};

  // Guards attaching other threads to this interpreter against its end.
  std::mutex attach_mutex_;
  PyInterpreterState* interp_ = nullptr;  // non-null while other threads may attach
  unsigned long thread_ident_ = 0;
};

}  // namespace pergil::detail
