// test_worker_pool.cpp: WorkerPool runs jobs in own-GIL interpreters, at several worker counts.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/gil.h"
#include "engine/worker_pool.h"

using pergil::detail::Job;
using pergil::detail::PoolOptions;
using pergil::detail::Ref;
using pergil::detail::StopReason;
using pergil::detail::WorkerContext;
using pergil::detail::WorkerPool;

namespace {

// Evaluates a Python expression in the worker; the result's repr (or the error) goes to a promise.
class EvalJob : public Job {
 public:
  explicit EvalJob(std::string expression) : expression_(std::move(expression)) {}
  void run(WorkerContext& worker) override {
    Ref globals = Ref::steal(PyDict_New());
    PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins());
    Ref value = Ref::steal(PyRun_String(expression_.c_str(), Py_eval_input, globals.get(),
                                        globals.get()));
    if (!value) {
      bool interrupted = PyErr_ExceptionMatches(worker.interrupt_type());
      PyErr_Clear();
      promise_.set_value(interrupted ? "<interrupted>" : "<error>");
      return;
    }
    Ref text = Ref::steal(PyObject_Repr(value.get()));
    promise_.set_value(PyUnicode_AsUTF8(text.get()));
  }
  void discard(StopReason why, const std::string&) noexcept override {
    promise_.set_value(why == StopReason::kShutdown ? "<shutdown>" : "<discarded>");
  }
  std::future<std::string> result() { return promise_.get_future(); }

 private:
  std::string expression_;
  std::promise<std::string> promise_;
};

class WorkerPoolTest : public ::testing::TestWithParam<size_t> {
 protected:
  PoolOptions options() {
    PoolOptions o;
    o.workers = GetParam();
    return o;
  }
};

TEST_P(WorkerPoolTest, RunsEveryJobOnce) {
  WorkerPool pool(options());
  std::vector<std::shared_ptr<EvalJob>> jobs;
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 200; ++i) {
    jobs.push_back(std::make_shared<EvalJob>(std::to_string(i) + " * 2"));
    results.push_back(jobs.back()->result());
    pool.submit(jobs.back());
  }
  for (int i = 0; i < 200; ++i) EXPECT_EQ(results[i].get(), std::to_string(i * 2));
}

TEST_P(WorkerPoolTest, EachWorkerHasItsOwnInterpreter) {
  WorkerPool pool(options());
  std::set<std::string> ids;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::future<std::string>> results;
    for (size_t i = 0; i < GetParam() * 4; ++i) {
      auto job = std::make_shared<EvalJob>(
          "__import__('_interpreters' if __import__('sys').version_info >= (3, 13) else "
          "'_xxsubinterpreters').get_current()");
      results.push_back(job->result());
      pool.submit(job);
    }
    for (auto& r : results) ids.insert(r.get());
  }
  EXPECT_LE(ids.size(), GetParam());
  EXPECT_GE(ids.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Workers, WorkerPoolTest, ::testing::Values(1, 2, 4));

}  // namespace
