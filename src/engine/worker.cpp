// worker.cpp: a worker's prologue (create and prepare its interpreter), job loop and epilogue.
#include "worker.h"

#include <chrono>

#include "interpreter.h"
#include "worker_pool.h"

namespace pergil::detail {

Worker::Worker(WorkerPool& pool, size_t index) : pool_(pool) { context_.index_ = index; }

Worker::~Worker() { join(); }

void Worker::start() {
  thread_ = std::thread([this] { main(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

size_t Worker::outstanding_loans() const {
  return context_.reclaims_ ? context_.reclaims_->outstanding() : 0;
}

void Worker::main() {
  std::unique_ptr<OwnGilInterpreter> interp;
  try {
    interp = std::make_unique<OwnGilInterpreter>();
  } catch (const std::exception& e) {
    pool_.mark_broken(e.what());
    pool_.worker_ended();
    return;
  }
  std::string error;
  bool ready = prepare(&error);
  interp->started();  // its imports and initializer done: the next interpreter may start
  {
    std::lock_guard<std::mutex> lock(attach_mutex_);
    interp_ = interp->state();
    thread_ident_ = interp->thread_ident();
  }
  PyThreadState* own = PyEval_SaveThread();
  if (ready)
    serve(own);
  else
    pool_.mark_broken(error);
  {
    // From here no other thread may attach: Py_EndInterpreter needs ours to be the last
    // thread state. Taken without our GIL, so an interrupter waiting for it can finish.
    std::lock_guard<std::mutex> lock(attach_mutex_);
    interp_ = nullptr;
  }
  PyEval_RestoreThread(own);
  PyThreadState_SetAsyncExc(thread_ident_, nullptr);
  context_.reclaims_->close();
  release_cache();
  interp.reset();  // ends the interpreter on the thread that created it
  pool_.worker_ended();
}

// Runs with the new interpreter's GIL held.
bool Worker::prepare(std::string* error) {
  context_.reclaims_ = std::make_shared<ReclaimQueue>([this] { pool_.wake_workers(); });
  const PoolOptions& options = pool_.options();
  bool ok = true;
  if (!options.sys_path.empty()) {
    Ref path = Ref::steal(PyList_New(0));
    for (const std::string& entry : options.sys_path) {
      Ref item = Ref::steal(PyUnicode_DecodeFSDefault(entry.c_str()));
      ok = ok && item && PyList_Append(path.get(), item.get()) == 0;
    }
    ok = ok && PySys_SetObject("path", path.get()) == 0;
  }
  if (ok) {
    Ref sys = Ref::steal(PyImport_ImportModule("sys"));
    Ref set = sys ? Ref::steal(PyObject_CallMethod(sys.get(), "setswitchinterval", "d",
                                                   options.switch_interval))
                  : Ref();
    ok = static_cast<bool>(set);
  }
  if (ok) {
    // A BaseException subclass, so `except Exception:` in user code does not swallow it.
    context_.interrupt_type_ =
        Ref::steal(PyErr_NewException("pergil.TaskInterrupted", PyExc_BaseException, nullptr));
    ok = static_cast<bool>(context_.interrupt_type_);
  }
  if (!ok) {
    *error = "cannot prepare a worker interpreter";
    PyErr_Clear();
    return false;
  }
  if (options.initialize && !options.initialize(context_, error)) {
    PyErr_Clear();
    return false;
  }
  return true;
}

void Worker::serve(PyThreadState* own) {
  for (;;) {
    WorkerPool::Next next = pool_.wait_for_work(*context_.reclaims_);
    if (!next.job && next.stop) return;
    PyEval_RestoreThread(own);
    context_.reclaims_->drain();
    if (next.job) {
      run_job(next.job);
    }
    own = PyEval_SaveThread();
  }
}

// Runs with this worker's GIL held.
void Worker::run_job(const std::shared_ptr<Job>& job) {
  // Admitted before it starts, under the pool's lock: a shutdown that cancels or interrupts
  // then either sees it in running_ or stops it here, never neither.
  job->worker_index_.store(static_cast<int>(context_.index_), std::memory_order_release);
  if (!pool_.admit(context_.index_, job)) {
    if (job->transition(JobState::kPending, JobState::kCancelled)) {
      std::string broken = pool_.broken_reason();  // a broken pool's jobs end as broken
      StopReason why = broken.empty() ? StopReason::kShutdown : StopReason::kBroken;
      job->stop_reason_.store(why, std::memory_order_release);
      job->discard(why, broken.empty() ? "cancelled by shutdown" : broken);
    }
    return;
  }
  job->started_ = std::chrono::steady_clock::now();  // published by the transition below
  if (!job->transition(JobState::kPending, JobState::kRunning)) {  // cancelled meanwhile
    pool_.set_running(context_.index_, nullptr);
    return;
  }
  current_job_.store(job->id(), std::memory_order_release);
  if (job->timeout > 0) pool_.watch_deadline(job);
  job->run(context_);
  current_job_.store(0, std::memory_order_release);
  // An interrupt that arrived after the job's last bytecode must not hit the next job.
  if (interrupt_sent_.exchange(false, std::memory_order_acq_rel))
    PyThreadState_SetAsyncExc(thread_ident_, nullptr);
  if (PyErr_Occurred()) PyErr_Clear();  // a job must leave none; never let one leak onward
  job->transition(JobState::kRunning, JobState::kDone);
  pool_.set_running(context_.index_, nullptr);
}

bool Worker::interrupt(uint64_t job_id) {
  std::lock_guard<std::mutex> lock(attach_mutex_);
  if (interp_ == nullptr) return false;
  TemporaryThreadState attached(interp_);
  // Checked under the worker's GIL: the worker changes current_job_ only while holding it.
  if (current_job_.load(std::memory_order_acquire) != job_id) return false;
  PyObject* type = context_.interrupt_type();
  if (PyThreadState_SetAsyncExc(thread_ident_, type) != 1) return false;
  interrupt_sent_.store(true, std::memory_order_release);
  return true;
}

void Worker::release_cache() { context_.cache_.clear(); }

}  // namespace pergil::detail
