// test_worker_pool.cpp: WorkerPool runs every job once, in own-GIL interpreters, at 1/2/4 workers.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace pergil_test {
namespace {

class WorkerPoolTest : public ::testing::TestWithParam<size_t> {
 protected:
  size_t workers() const { return GetParam(); }
};

TEST_P(WorkerPoolTest, RunsEveryJobOnce) {
  WorkerPool pool(pool_options(workers()));
  std::vector<std::shared_ptr<PythonJob>> jobs;
  for (int i = 0; i < 200; ++i) {
    jobs.push_back(std::make_shared<PythonJob>(std::to_string(i) + " * 2"));
    pool.submit(jobs.back());
  }
  for (int i = 0; i < 200; ++i) {
    Outcome out = jobs[i]->wait();
    EXPECT_EQ(out.kind, Outcome::kValue);
    EXPECT_EQ(out.text, std::to_string(i * 2));
    EXPECT_LT(out.worker, workers());
  }
  for (auto& job : jobs) {
    EXPECT_EQ(job->runs(), 1);
    EXPECT_EQ(job->discards(), 0);
    EXPECT_EQ(job->state(), JobState::kDone);
    EXPECT_EQ(job->stop_reason(), StopReason::kNone);
  }
}

// Several threads submit at once: each job runs exactly once and computes its own value.
TEST_P(WorkerPoolTest, ConcurrentSubmitRunsEveryJobExactlyOnce) {
  constexpr int kThreads = 4, kPerThread = 100, kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    WorkerPool pool(pool_options(workers()));
    std::vector<std::vector<std::shared_ptr<PythonJob>>> jobs(kThreads);
    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          jobs[t].push_back(std::make_shared<PythonJob>(std::to_string(t * 1000 + i) + " + 1"));
          pool.submit(jobs[t].back());
        }
      });
    }
    for (auto& s : submitters) s.join();
    std::set<uint64_t> ids;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        Outcome out = jobs[t][i]->wait();
        ASSERT_EQ(out.kind, Outcome::kValue) << out.text;
        EXPECT_EQ(out.text, std::to_string(t * 1000 + i + 1));
        EXPECT_EQ(jobs[t][i]->runs(), 1);
        EXPECT_EQ(jobs[t][i]->discards(), 0);
        ids.insert(jobs[t][i]->id());
      }
    }
    EXPECT_EQ(ids.size(), size_t{kThreads * kPerThread}) << "job ids must be unique";
  }
}

// Every worker runs a job at the same time: each blocks until all of them have started.
TEST_P(WorkerPoolTest, WorkersRunJobsInParallel) {
  WorkerPool pool(pool_options(workers()));
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::vector<std::shared_ptr<PythonJob>> jobs;
  for (size_t i = 0; i < workers(); ++i) {
    jobs.push_back(std::make_shared<PythonJob>("__import__('threading').get_ident()"));
    jobs.back()->set_gate(gate);
    pool.submit(jobs.back());
  }
  for (auto& job : jobs) await(job->started(), "every worker starting a job");
  open.set_value();
  std::set<size_t> used;
  std::set<std::string> threads;
  for (auto& job : jobs) {
    Outcome out = job->wait();
    ASSERT_EQ(out.kind, Outcome::kValue);
    used.insert(out.worker);
    threads.insert(out.text);
  }
  EXPECT_EQ(used.size(), workers());
  EXPECT_EQ(threads.size(), workers());
}

// Jobs submitted together to idle workers all start together, whether the workers are parked
// or one of them is still spinning for work (the submitter wakes only the workers it needs).
TEST_P(WorkerPoolTest, IdleWorkersStartJobsSubmittedTogether) {
  WorkerPool pool(pool_options(workers()));
  const std::chrono::microseconds pauses[] = {
      std::chrono::microseconds(0), std::chrono::microseconds(20), std::chrono::microseconds(2000)};
  for (int round = 0; round < 30; ++round) {
    std::this_thread::sleep_for(pauses[round % 3]);  // idle: spinning, or parked
    std::promise<void> open;
    std::shared_future<void> gate = open.get_future().share();
    std::vector<std::shared_ptr<PythonJob>> jobs;
    for (size_t i = 0; i < workers(); ++i) {
      jobs.push_back(std::make_shared<PythonJob>("1"));
      jobs.back()->set_gate(gate);
      pool.submit(jobs.back());
    }
    for (auto& job : jobs) await(job->started(), "every idle worker starting a job");
    open.set_value();
    for (auto& job : jobs) ASSERT_EQ(job->wait().kind, Outcome::kValue);
  }
}

TEST_P(WorkerPoolTest, EachWorkerHasItsOwnInterpreter) {
  WorkerPool pool(pool_options(workers()));
  std::set<std::string> ids;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::shared_ptr<PythonJob>> jobs;
    for (size_t i = 0; i < workers() * 4; ++i) {
      jobs.push_back(std::make_shared<PythonJob>(
          "(__import__('_interpreters' if __import__('sys').version_info >= (3, 13) else "
          "'_xxsubinterpreters').get_current(), __import__('threading').get_ident())"));
      pool.submit(jobs.back());
    }
    for (auto& job : jobs) {
      Outcome out = job->wait();
      ASSERT_EQ(out.kind, Outcome::kValue) << out.text;
      ids.insert(out.text);
    }
  }
  // One (interpreter, thread) pair per worker, at most: no interpreter runs on two threads.
  EXPECT_LE(ids.size(), workers());
  EXPECT_GE(ids.size(), 1u);
}

// A Python exception stays inside its job; the worker goes on serving.
TEST_P(WorkerPoolTest, PythonErrorEndsOnlyItsJob) {
  WorkerPool pool(pool_options(workers()));
  for (int i = 0; i < 20; ++i) {
    auto bad = std::make_shared<PythonJob>("1 / 0");
    auto good = std::make_shared<PythonJob>("'ok'");
    pool.submit(bad);
    pool.submit(good);
    Outcome out = bad->wait();
    EXPECT_EQ(out.kind, Outcome::kError);
    EXPECT_NE(out.text.find("ZeroDivisionError"), std::string::npos) << out.text;
    EXPECT_EQ(good->wait().text, "'ok'");
  }
}

// A temporary directory holding one module, removed with the fixture.
class ModuleDir {
 public:
  ModuleDir() {
    char tmpl[] = "/tmp/pergil-test-XXXXXX";
    path_ = mkdtemp(tmpl);
    std::ofstream(path_ + "/pergil_probe_mod.py") << "VALUE = 42\n";
  }
  ~ModuleDir() {
    unlink((path_ + "/pergil_probe_mod.py").c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_P(WorkerPoolTest, AppliesSysPathInEveryWorker) {
  ModuleDir dir;
  PoolOptions options = pool_options(workers());
  options.sys_path = {dir.path(), "/nonexistent/pergil"};
  WorkerPool pool(options);
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::vector<std::shared_ptr<PythonJob>> jobs;
  // Gated so that every worker runs one job, not just the first to wake.
  for (size_t i = 0; i < workers(); ++i) {
    jobs.push_back(std::make_shared<PythonJob>(
        "result = (__import__('sys').path, __import__('pergil_probe_mod').VALUE)", Py_file_input));
    jobs.back()->set_gate(gate);
    pool.submit(jobs.back());
  }
  for (auto& job : jobs) await(job->started(), "every worker starting a job");
  open.set_value();
  std::string expected = "(['" + dir.path() + "', '/nonexistent/pergil'], 42)";
  std::set<size_t> used;
  for (auto& job : jobs) {
    Outcome out = job->wait();
    EXPECT_EQ(out.text, expected);
    used.insert(out.worker);
  }
  EXPECT_EQ(used.size(), workers());
}

// Creating and ending interpreters over and over leaks no state that breaks the next pool.
TEST_P(WorkerPoolTest, HundredPoolsInARow) {
  for (int i = 0; i < 100; ++i) {
    WorkerPool pool(pool_options(workers()));
    auto job = std::make_shared<PythonJob>("sum(range(" + std::to_string(i) + "))");
    pool.submit(job);
    EXPECT_EQ(job->wait().text, std::to_string(i * (i - 1) / 2));
  }
}

// No two interpreters start at once (interpreter.cpp: CPython 3.12/3.13 hand out type version
// tags from an unsynchronized global counter): each worker's initialize hook runs alone, also
// across two pools created at the same time from two threads. Each hook lingers, with its GIL
// released, so that hooks running at once would overlap.
TEST_P(WorkerPoolTest, WorkersStartOneAtATime) {
  std::atomic<int> starting{0}, most{0}, hooks{0};
  PoolOptions options = pool_options(workers());
  options.initialize = [&](WorkerContext&, std::string*) {
    int now = starting.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    {
      ReleasedGil released;
      std::this_thread::sleep_for(std::chrono::milliseconds(40));  // > an interpreter creation
    }
    starting.fetch_sub(1);
    hooks.fetch_add(1);
    return true;
  };
  for (int round = 0; round < 3; ++round) {
    std::thread other([&] { WorkerPool pool(options); });
    {
      WorkerPool pool(options);
      auto job = std::make_shared<PythonJob>("6 * 7");
      pool.submit(job);
      EXPECT_EQ(job->wait().text, "42");
    }
    other.join();
  }
  EXPECT_EQ(hooks.load(), static_cast<int>(6 * workers()));
  EXPECT_EQ(most.load(), 1);
}

// A pool that is created and ended without ever receiving a job.
TEST_P(WorkerPoolTest, IdlePoolEndsCleanly) {
  std::atomic<int> ended{0};
  {
    PoolOptions options = pool_options(workers());
    options.on_all_workers_ended = [&] { ended.fetch_add(1); };
    WorkerPool pool(options);
    EXPECT_EQ(pool.size(), workers());
    EXPECT_TRUE(pool.accepting());
    EXPECT_FALSE(pool.broken());
  }
  EXPECT_EQ(ended.load(), 1);
}

TEST(WorkerPoolOptionsTest, ZeroWorkersIsRefused) {
  EXPECT_THROW(WorkerPool(pool_options(0)), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Workers, WorkerPoolTest, worker_counts());

}  // namespace
}  // namespace pergil_test
