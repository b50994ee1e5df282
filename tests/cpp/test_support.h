// test_support.h: job kinds shared by the engine tests, and waits that fail instead of hanging.
#pragma once

#include <Python.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/buffer.h"
#include "engine/gil.h"
#include "engine/worker_pool.h"

namespace pergil_test {

using pergil::detail::Buffer;
using pergil::detail::Job;
using pergil::detail::JobState;
using pergil::detail::PoolOptions;
using pergil::detail::ReclaimQueue;
using pergil::detail::Ref;
using pergil::detail::ReleasedGil;
using pergil::detail::StopReason;
using pergil::detail::WorkerContext;
using pergil::detail::WorkerPool;

// How long a test waits for something that must happen before it declares a hang. This bounds
// a deadlock, it measures nothing: every wait in the tests is for an event, never for time.
inline constexpr std::chrono::seconds kHangGuard{120};

// Ends the test binary with `what` if `ready()` does not hold within kHangGuard: a hung worker
// would otherwise also hang the pool's destructor, and ctest would only report a timeout.
template <class Ready>
void wait_until(Ready ready, const char* what) {
  auto give_up = std::chrono::steady_clock::now() + kHangGuard;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > give_up) {
      std::fprintf(stderr, "HANG: %s did not happen within %llds\n", what,
                   static_cast<long long>(kHangGuard.count()));
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

template <class T>
T await(std::shared_future<T> future, const char* what) {
  wait_until([&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
             what);
  return future.get();
}

// How a PythonJob ended.
struct Outcome {
  enum Kind { kValue, kInterrupted, kError, kDiscarded };
  Kind kind = kError;
  std::string text;  // repr of the value, the error's repr, or the discard message
  StopReason reason = StopReason::kNone;  // the job's stop_reason() when it ended
  size_t worker = 0;                      // index of the worker that ran it
};

// Runs Python source in a worker, in a fresh namespace: an expression (Py_eval_input, its repr
// is the outcome's text) or statements (Py_file_input, the text is the repr of `result` if the
// code binds it). Counts run() and discard() calls, so a test can prove each job ended through
// exactly one of them. An optional gate makes run() wait (its GIL released) before the code.
class PythonJob : public Job {
 public:
  explicit PythonJob(std::string code, int mode = Py_eval_input)
      : code_(std::move(code)), mode_(mode), outcome_(promise_.get_future().share()) {}

  void run(WorkerContext& worker) override;
  void discard(StopReason why, const std::string& message) noexcept override;

  void set_gate(std::shared_future<void> gate) { gate_ = std::move(gate); }
  // Makes run() wait (its GIL released) after the code has run, before it reports: an
  // interrupt can then arrive while the job still runs but no bytecode of it is left.
  void set_after_gate(std::shared_future<void> gate) { after_gate_ = std::move(gate); }
  std::shared_future<Outcome> outcome() const { return outcome_; }
  std::shared_future<void> started() const { return started_future_; }
  // Ready once the job's code has run and it waits at its after gate (see set_after_gate).
  std::shared_future<void> code_ended() const { return code_ended_future_; }
  Outcome wait() const { return await(outcome_, "a job's end"); }
  int runs() const { return runs_.load(); }
  int discards() const { return discards_.load(); }
  int ends() const { return runs() + discards(); }

 private:
  void finish(Outcome outcome);

  std::string code_;
  int mode_;
  std::shared_future<void> gate_;
  std::shared_future<void> after_gate_;
  std::atomic<int> runs_{0};
  std::atomic<int> discards_{0};
  std::atomic<bool> finished_{false};
  std::promise<Outcome> promise_;
  std::shared_future<Outcome> outcome_;
  std::promise<void> started_promise_;
  std::shared_future<void> started_future_{started_promise_.get_future().share()};
  std::promise<void> code_ended_promise_;
  std::shared_future<void> code_ended_future_{code_ended_promise_.get_future().share()};
};

inline void PythonJob::finish(Outcome outcome) {
  // A second end is a bug the counters report; the promise keeps the first.
  if (!finished_.exchange(true)) promise_.set_value(std::move(outcome));
}

inline void PythonJob::run(WorkerContext& worker) {
  if (runs_.fetch_add(1) == 0) started_promise_.set_value();
  if (gate_.valid()) {
    ReleasedGil released;  // never block while holding the worker's GIL
    gate_.wait();
  }
  Outcome out;
  out.worker = worker.index();
  Ref globals = Ref::steal(PyDict_New());
  PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins());
  Ref value = Ref::steal(PyRun_String(code_.c_str(), mode_, globals.get(), globals.get()));
  if (after_gate_.valid()) {
    ReleasedGil released;
    if (runs_.load() == 1) code_ended_promise_.set_value();
    after_gate_.wait();
  }
  if (value && mode_ == Py_file_input) {
    value = Ref::borrow(PyDict_GetItemString(globals.get(), "result"));
    if (!value) value = Ref::borrow(Py_None);
  }
  if (value) {
    Ref text = Ref::steal(PyObject_Repr(value.get()));
    out.kind = text ? Outcome::kValue : Outcome::kError;
    if (text) out.text = PyUnicode_AsUTF8(text.get());
  } else {
    out.kind =
        PyErr_ExceptionMatches(worker.interrupt_type()) ? Outcome::kInterrupted : Outcome::kError;
    PyObject* exc = PyErr_GetRaisedException();
    Ref text = Ref::steal(PyObject_Repr(exc));
    if (text) out.text = PyUnicode_AsUTF8(text.get());
    Py_XDECREF(exc);
  }
  PyErr_Clear();  // the Job contract: leave no exception set
  globals.reset();
  out.reason = stop_reason();
  finish(std::move(out));
}

inline void PythonJob::discard(StopReason why, const std::string& message) noexcept {
  discards_.fetch_add(1);
  Outcome out;
  out.kind = Outcome::kDiscarded;
  out.text = message;
  out.reason = why;
  finish(std::move(out));
}

// A job that adds 0..n-1 in a Python-level loop, so an interrupt can land in any iteration
// (a C builtin such as sum() only sees one when it returns). Its result is n * (n - 1) / 2.
inline std::shared_ptr<PythonJob> counting_job(long long n) {
  return std::make_shared<PythonJob>(
      "result = 0\nfor i in range(" + std::to_string(n) + "):\n    result += i\n", Py_file_input);
}
inline std::string counted(long long n) { return std::to_string(n * (n - 1) / 2); }

// A job that spins in Python until it is interrupted: nothing else can end it.
inline std::shared_ptr<PythonJob> endless_job() {
  return std::make_shared<PythonJob>("while True:\n    pass\n", Py_file_input);
}

// What a LendJob hands back: the buffer taken in the worker, and where its loan returns.
struct Lent {
  bool ok = false;
  Buffer buffer;
  std::shared_ptr<ReclaimQueue> queue;
  std::thread::id worker_thread;
};

// Builds `result` with Python statements in the calling worker (with `functions`, C functions
// of the test, bound in its namespace) and takes a Buffer on it: a copy, or a loan if large.
// Contract: runs on a worker thread with its GIL held (a job or an initialize hook).
inline Lent lend_here(WorkerContext& worker, const std::string& code,
                      const std::vector<PyMethodDef*>& functions) {
  Lent lent;
  lent.queue = worker.reclaims();
  lent.worker_thread = std::this_thread::get_id();
  Ref globals = Ref::steal(PyDict_New());
  PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins());
  for (PyMethodDef* def : functions) {
    Ref function = Ref::steal(PyCFunction_New(def, nullptr));
    PyDict_SetItemString(globals.get(), def->ml_name, function.get());
  }
  Ref done = Ref::steal(PyRun_String(code.c_str(), Py_file_input, globals.get(), globals.get()));
  PyObject* obj = done ? PyDict_GetItemString(globals.get(), "result") : nullptr;
  lent.ok = obj && ReclaimQueue::take(worker.reclaims(), obj, &lent.buffer);
  PyErr_Clear();
  return lent;  // our references die with `globals`; a loan keeps `obj`
}

// A job that runs lend_here() and hands the Lent to the test.
class LendJob : public Job {
 public:
  LendJob(std::string code, std::vector<PyMethodDef*> functions)
      : code_(std::move(code)), functions_(std::move(functions)), future_(promise_.get_future()) {}

  void run(WorkerContext& worker) override {
    promise_.set_value(lend_here(worker, code_, functions_));
  }
  void discard(StopReason, const std::string&) noexcept override { promise_.set_value(Lent{}); }

  Lent take() {
    wait_until(
        [&] { return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
        "a lend job's end");
    return future_.get();
  }

 private:
  std::string code_;
  std::vector<PyMethodDef*> functions_;
  std::promise<Lent> promise_;
  std::future<Lent> future_;
};

inline Lent lend_in(WorkerPool& pool, const std::string& code,
                    std::vector<PyMethodDef*> functions) {
  auto job = std::make_shared<LendJob>(code, std::move(functions));
  pool.submit(job);
  return job->take();
}

inline PoolOptions pool_options(size_t workers) {
  PoolOptions o;
  o.workers = workers;
  return o;
}

// Worker counts every pool test runs at.
inline auto worker_counts() { return ::testing::Values(size_t{1}, size_t{2}, size_t{4}); }

}  // namespace pergil_test
