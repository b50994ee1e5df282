// test_shutdown.cpp: WorkerPool shutdown modes, submit after shutdown, and broken pools.
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace pergil_test {
namespace {

// Runs `fn` on its own thread; join() waits for it under the hang guard.
class Background {
 public:
  template <class Fn>
  explicit Background(Fn fn)
      : thread_([this, fn] {
          fn();
          done_.store(true);
        }) {}
  ~Background() { join(); }
  bool done() const { return done_.load(); }
  void join() {
    if (!thread_.joinable()) return;
    wait_until([&] { return done(); }, "a background call returning");
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A C function for worker code that, once armed, blocks (its GIL released) until the gate
// opens: called from a loan's release, it holds a worker between taking a job from the queue
// and starting it (the worker drains its loan releases in between).
std::atomic<bool> g_block_armed{false};
std::atomic<int> g_blocked{0};
std::shared_future<void> g_block_gate;

PyObject* block(PyObject*, PyObject*) {
  if (g_block_armed.load()) {
    g_blocked.fetch_add(1);
    ReleasedGil released;
    g_block_gate.wait();
  }
  Py_RETURN_NONE;
}
PyMethodDef g_block_def = {"block", block, METH_NOARGS, nullptr};

// A large buffer (so it is lent, not copied) whose release calls block().
const char* const kBlockingRelease =
    "class BlocksOnRelease:\n"
    "    def __init__(self):\n"
    "        self.data = bytes(200000)\n"
    "    def __buffer__(self, flags):\n"
    "        return memoryview(self.data)\n"
    "    def __release_buffer__(self, view):\n"
    "        view.release()\n"
    "        block()\n"
    "result = BlocksOnRelease()\n";

class WorkerPoolShutdownTest : public ::testing::TestWithParam<size_t> {
 protected:
  size_t workers() const { return GetParam(); }

  std::vector<std::shared_ptr<PythonJob>> occupy_workers(WorkerPool& pool,
                                                         std::shared_future<void> gate) {
    std::vector<std::shared_ptr<PythonJob>> blockers;
    for (size_t i = 0; i < workers(); ++i) {
      blockers.push_back(std::make_shared<PythonJob>("'blocker'"));
      blockers.back()->set_gate(gate);
      pool.submit(blockers.back());
    }
    for (auto& b : blockers) await(b->started(), "every worker starting a blocker");
    return blockers;
  }

  std::vector<std::shared_ptr<PythonJob>> submit_numbers(WorkerPool& pool, size_t count) {
    std::vector<std::shared_ptr<PythonJob>> jobs;
    for (size_t i = 0; i < count; ++i) {
      jobs.push_back(std::make_shared<PythonJob>(std::to_string(i) + " - 1"));
      pool.submit(jobs.back());
    }
    return jobs;
  }
};

TEST_P(WorkerPoolShutdownTest, WaitRunsPendingJobs) {
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> ended{0};
    PoolOptions options = pool_options(workers());
    options.on_all_workers_ended = [&] { ended.fetch_add(1); };
    WorkerPool pool(options);
    std::promise<void> open;
    auto blockers = occupy_workers(pool, open.get_future().share());
    auto pending = submit_numbers(pool, workers() * 10);
    Background shutdown([&] { pool.shutdown(/*wait=*/true, /*cancel_pending=*/false, false); });
    wait_until([&] { return !pool.accepting(); }, "shutdown refusing new jobs");
    EXPECT_FALSE(shutdown.done()) << "shutdown(wait) returned while jobs were running";
    open.set_value();
    shutdown.join();
    EXPECT_EQ(ended.load(), 1);  // every interpreter has ended once shutdown(wait) returns
    for (auto& b : blockers) EXPECT_EQ(b->wait().text, "'blocker'");
    for (size_t i = 0; i < pending.size(); ++i) {
      Outcome out = pending[i]->wait();
      EXPECT_EQ(out.kind, Outcome::kValue);
      EXPECT_EQ(out.text, std::to_string(static_cast<long>(i) - 1));
      EXPECT_EQ(pending[i]->ends(), 1);
    }
  }
}

TEST_P(WorkerPoolShutdownTest, CancelPendingDiscardsQueuedJobs) {
  for (int round = 0; round < 5; ++round) {
    WorkerPool pool(pool_options(workers()));
    std::promise<void> open;
    auto blockers = occupy_workers(pool, open.get_future().share());
    auto pending = submit_numbers(pool, workers() * 10);
    Background shutdown([&] { pool.shutdown(/*wait=*/true, /*cancel_pending=*/true, false); });
    for (auto& job : pending) {  // discarded while the running jobs still block
      Outcome out = job->wait();
      EXPECT_EQ(out.kind, Outcome::kDiscarded);
      EXPECT_EQ(out.reason, StopReason::kShutdown);
      EXPECT_EQ(job->state(), JobState::kCancelled);
    }
    open.set_value();
    shutdown.join();
    for (auto& b : blockers) {
      Outcome out = b->wait();  // running jobs are not interrupted without `interrupt`
      EXPECT_EQ(out.kind, Outcome::kValue);
      EXPECT_EQ(out.reason, StopReason::kNone);
    }
    for (auto& job : pending) EXPECT_EQ(job->ends(), 1);
  }
}

TEST_P(WorkerPoolShutdownTest, InterruptStopsRunningJobs) {
  for (int round = 0; round < 3; ++round) {
    WorkerPool pool(pool_options(workers()));
    std::vector<std::shared_ptr<PythonJob>> loops;
    for (size_t i = 0; i < workers(); ++i) {
      loops.push_back(endless_job());
      pool.submit(loops.back());
    }
    for (auto& loop : loops) await(loop->started(), "an endless job starting");
    auto pending = submit_numbers(pool, workers() * 3);
    Background shutdown([&] { pool.shutdown(true, true, /*interrupt_running=*/true); });
    shutdown.join();
    for (auto& loop : loops) {
      Outcome out = loop->wait();
      EXPECT_EQ(out.kind, Outcome::kInterrupted) << out.text;
      EXPECT_EQ(out.reason, StopReason::kCancelled);
    }
    for (auto& job : pending) EXPECT_EQ(job->wait().reason, StopReason::kShutdown);
  }
}

// shutdown(wait=false) returns while jobs run; the destructor then ends every job exactly once.
TEST_P(WorkerPoolShutdownTest, NoWaitThenDestruction) {
  std::mt19937 rng(7);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::shared_ptr<PythonJob>> blockers, pending;
    std::promise<void> open;
    {
      WorkerPool pool(pool_options(workers()));
      bool gated = round % 2 == 0;
      if (gated) blockers = occupy_workers(pool, open.get_future().share());
      pending = submit_numbers(pool, 1 + rng() % 50);
      {
        Background shutdown([&] { pool.shutdown(/*wait=*/false, false, false); });
        shutdown.join();  // must return although workers are still busy
      }
      EXPECT_FALSE(pool.accepting());
      EXPECT_THROW(pool.submit(std::make_shared<PythonJob>("1")), std::runtime_error);
      if (gated) open.set_value();
    }
    for (auto& b : blockers) EXPECT_EQ(b->wait().text, "'blocker'");
    for (auto& job : pending) {
      Outcome out = job->wait();
      EXPECT_EQ(job->ends(), 1);
      if (out.kind == Outcome::kDiscarded)
        EXPECT_EQ(out.reason, StopReason::kShutdown);
      else
        EXPECT_EQ(out.kind, Outcome::kValue);
    }
  }
}

// shutdown(cancel_pending, interrupt) right after submitting endless jobs, while workers are
// taking them from the queue: a job a worker has taken but not yet started must be stopped
// too, or it would run forever and shutdown(wait) would never return.
TEST_P(WorkerPoolShutdownTest, InterruptingShutdownStopsJobsJustTaken) {
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::shared_ptr<PythonJob>> loops;
    {
      WorkerPool pool(pool_options(workers()));
      for (size_t i = 0; i < workers() * 2; ++i) {
        loops.push_back(endless_job());
        pool.submit(loops.back());
      }
      auto pause = std::chrono::microseconds(rng() % 300);  // around when workers wake
      for (auto until = std::chrono::steady_clock::now() + pause;
           std::chrono::steady_clock::now() < until;) {
      }
      Background shutdown(
          [&] { pool.shutdown(true, /*cancel_pending=*/true, /*interrupt=*/true); });
      shutdown.join();
    }
    for (auto& loop : loops) {
      Outcome out = loop->wait();
      EXPECT_EQ(loop->ends(), 1);
      if (out.kind == Outcome::kInterrupted) {
        EXPECT_EQ(out.reason, StopReason::kCancelled);
      } else {
        ASSERT_EQ(out.kind, Outcome::kDiscarded) << out.text;
        EXPECT_TRUE(out.reason == StopReason::kShutdown || out.reason == StopReason::kCancelled);
      }
    }
  }
}

// The same, made certain: every worker has taken an endless job from the queue and is held
// (by a loan release it drains) before starting it, when shutdown(cancel_pending, interrupt)
// runs. Those jobs are in neither the queue nor running_; each must still never start.
TEST_P(WorkerPoolShutdownTest, InterruptingShutdownStopsJobsTakenNotStarted) {
  std::promise<void> open_blockers, release_block;
  g_block_gate = release_block.get_future().share();
  g_blocked.store(0);
  std::mutex lent_mutex;
  std::vector<Lent> lent;  // one loan per worker, taken by its initialize hook
  PoolOptions options = pool_options(workers());
  options.initialize = [&](WorkerContext& worker, std::string*) {
    Lent l = lend_here(worker, kBlockingRelease, {&g_block_def});
    std::lock_guard<std::mutex> lock(lent_mutex);
    lent.push_back(std::move(l));
    return true;
  };
  std::vector<std::shared_ptr<PythonJob>> loops;
  {
    WorkerPool pool(options);
    auto blockers = occupy_workers(pool, open_blockers.get_future().share());
    ASSERT_EQ(lent.size(), workers());  // every hook ran before its worker took a blocker
    for (auto& l : lent) ASSERT_TRUE(l.ok && l.queue->outstanding() == 1);
    g_block_armed.store(true);
    for (auto& l : lent) l.buffer.keeper.reset();  // queued: each worker drains its own
    for (size_t i = 0; i < workers(); ++i) {
      loops.push_back(endless_job());
      pool.submit(loops.back());
    }
    open_blockers.set_value();  // each worker ends its blocker, takes a loop, drains, blocks
    wait_until([&] { return g_blocked.load() == static_cast<int>(workers()); },
               "every worker holding a job it took, inside a loan release");
    Background shutdown([&] { pool.shutdown(true, /*cancel_pending=*/true, /*interrupt=*/true); });
    wait_until([&] { return !pool.accepting(); }, "shutdown starting");
    // shutdown's discard and interrupt passes are not observable from here: give them time.
    // Too short a pause lets the loops start and be interrupted instead; it cannot fail wrongly.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release_block.set_value();
    shutdown.join();
    g_block_armed.store(false);
    for (auto& b : blockers) EXPECT_EQ(b->wait().text, "'blocker'");
  }
  for (auto& loop : loops) {
    Outcome out = loop->wait();
    EXPECT_EQ(loop->ends(), 1);
    if (out.kind == Outcome::kInterrupted) {
      EXPECT_EQ(out.reason, StopReason::kCancelled);
    } else {
      EXPECT_EQ(out.kind, Outcome::kDiscarded) << out.text;
      EXPECT_EQ(out.reason, StopReason::kShutdown);
    }
  }
  for (auto& l : lent) EXPECT_EQ(l.queue->outstanding(), 0u);
}

TEST_P(WorkerPoolShutdownTest, SubmitAfterShutdownThrows) {
  WorkerPool pool(pool_options(workers()));
  pool.shutdown(true, false, false);
  auto job = std::make_shared<PythonJob>("1");
  try {
    pool.submit(job);
    ADD_FAILURE() << "submit after shutdown did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shutdown"), std::string::npos) << e.what();
  }
  EXPECT_EQ(job->state(), JobState::kPending);  // untouched: the caller still owns its end
  EXPECT_EQ(job->ends(), 0);
  pool.shutdown(true, true, true);  // a second shutdown is harmless
  pool.shutdown(false, false, false);
}

// Submitters race with shutdown(cancel_pending): a refused submit leaves its job untouched,
// an accepted one ends exactly once (ran, or discarded with kShutdown).
TEST_P(WorkerPoolShutdownTest, ShutdownRacingWithSubmitters) {
  constexpr int kThreads = 3, kPerThread = 200;
  for (int round = 0; round < 10; ++round) {
    std::vector<std::vector<std::shared_ptr<PythonJob>>> jobs(kThreads);
    std::vector<std::vector<bool>> accepted(kThreads);
    {
      WorkerPool pool(pool_options(workers()));
      std::vector<std::thread> submitters;
      for (int t = 0; t < kThreads; ++t) {
        submitters.emplace_back([&, t] {
          for (int i = 0; i < kPerThread; ++i) {
            jobs[t].push_back(std::make_shared<PythonJob>(std::to_string(i)));
            try {
              pool.submit(jobs[t].back());
              accepted[t].push_back(true);
            } catch (const std::runtime_error&) {
              accepted[t].push_back(false);
            }
          }
        });
      }
      std::this_thread::yield();
      pool.shutdown(/*wait=*/true, /*cancel_pending=*/true, false);
      for (auto& s : submitters) s.join();
    }
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        auto& job = jobs[t][i];
        if (!accepted[t][i]) {
          EXPECT_EQ(job->ends(), 0);
          continue;
        }
        Outcome out = job->wait();
        EXPECT_EQ(job->ends(), 1);
        if (out.kind == Outcome::kValue)
          EXPECT_EQ(out.text, std::to_string(i));
        else
          EXPECT_EQ(out.reason, StopReason::kShutdown) << out.text;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, WorkerPoolShutdownTest, worker_counts());

class WorkerPoolBrokenTest : public WorkerPoolShutdownTest {};

// Every worker's initialize hook refuses (after jobs were queued): the pool is broken, the
// queued jobs are discarded with kBroken and later submits throw with the hook's reason.
// Workers start one at a time (see interpreter.cpp): the first hook holds the others back.
TEST_P(WorkerPoolBrokenTest, InitializeFailureDiscardsQueuedJobs) {
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::atomic<int> hooks_started{0};
  PoolOptions options = pool_options(workers());
  options.initialize = [&](WorkerContext&, std::string* error) {
    hooks_started.fetch_add(1);
    ReleasedGil released;
    gate.wait();
    *error = "initializer refused";
    return false;
  };
  WorkerPool pool(options);
  wait_until([&] { return hooks_started.load() >= 1; }, "the first initialize hook starting");
  auto queued = submit_numbers(pool, 20);
  open.set_value();
  for (auto& job : queued) {
    Outcome out = job->wait();
    EXPECT_EQ(out.kind, Outcome::kDiscarded);
    EXPECT_EQ(out.reason, StopReason::kBroken);
    EXPECT_EQ(job->ends(), 1);
  }
  EXPECT_TRUE(pool.broken());
  EXPECT_EQ(pool.broken_reason(), "initializer refused");
  auto late = std::make_shared<PythonJob>("1");
  try {
    pool.submit(late);
    ADD_FAILURE() << "submit to a broken pool did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("initializer refused"), std::string::npos) << e.what();
  }
  EXPECT_EQ(late->ends(), 0);
}

// Only worker 0 refuses, while jobs arrive: each job ends once (run by a healthy worker before
// the pool broke, or discarded with kBroken), or its submit throws.
TEST_P(WorkerPoolBrokenTest, OneFailingWorkerBreaksThePool) {
  for (int round = 0; round < 10; ++round) {
    PoolOptions options = pool_options(workers());
    options.initialize = [](WorkerContext& worker, std::string* error) {
      if (worker.index() != 0) return true;
      *error = "worker 0 refused";
      return false;
    };
    std::vector<std::shared_ptr<PythonJob>> accepted;
    {
      WorkerPool pool(options);
      for (int i = 0; i < 100; ++i) {
        auto job = std::make_shared<PythonJob>(std::to_string(i));
        try {
          pool.submit(job);
          accepted.push_back(job);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("worker 0 refused"), std::string::npos);
          EXPECT_EQ(job->ends(), 0);
        }
      }
      wait_until([&] { return pool.broken(); }, "the pool breaking");
      EXPECT_FALSE(pool.accepting());
    }
    for (auto& job : accepted) {
      Outcome out = job->wait();
      EXPECT_EQ(job->ends(), 1);
      if (out.kind == Outcome::kDiscarded)
        EXPECT_EQ(out.reason, StopReason::kBroken);
      else
        EXPECT_EQ(out.kind, Outcome::kValue);
    }
  }
}

// The hook runs Python in each worker's own interpreter, before that worker takes any job.
TEST_P(WorkerPoolBrokenTest, InitializeRunsInEveryWorkerFirst) {
  PoolOptions options = pool_options(workers());
  options.initialize = [](WorkerContext& worker, std::string* error) {
    std::string code =
        "import builtins\nbuiltins.PERGIL_INIT = " + std::to_string(worker.index()) + "\n";
    if (PyRun_SimpleString(code.c_str()) == 0) return true;
    *error = "cannot run the initializer";
    return false;
  };
  WorkerPool pool(options);
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::vector<std::shared_ptr<PythonJob>> jobs;
  for (size_t i = 0; i < workers(); ++i) {
    jobs.push_back(std::make_shared<PythonJob>("PERGIL_INIT"));
    jobs.back()->set_gate(gate);
    pool.submit(jobs.back());
  }
  for (auto& job : jobs) await(job->started(), "every worker starting a job");
  open.set_value();
  for (auto& job : jobs) {
    Outcome out = job->wait();
    ASSERT_EQ(out.kind, Outcome::kValue) << out.text;
    EXPECT_EQ(out.text, std::to_string(out.worker));
  }
  EXPECT_FALSE(pool.broken());
}

INSTANTIATE_TEST_SUITE_P(Workers, WorkerPoolBrokenTest, worker_counts());

}  // namespace
}  // namespace pergil_test
