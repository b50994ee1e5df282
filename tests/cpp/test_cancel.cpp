// test_cancel.cpp: cancelling pending and running jobs, deadlines, and interrupts that come late.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace pergil_test {
namespace {

using pergil::detail::CancelOutcome;

class WorkerPoolCancelTest : public ::testing::TestWithParam<size_t> {
 protected:
  size_t workers() const { return GetParam(); }

  // Submits one gated job per worker and waits until every worker is blocked in one.
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

  // Every worker still serves: a batch of fresh jobs all compute their value.
  void expect_pool_serves(WorkerPool& pool) {
    std::vector<std::shared_ptr<PythonJob>> jobs;
    for (size_t i = 0; i < workers() * 3; ++i) {
      jobs.push_back(std::make_shared<PythonJob>(std::to_string(i) + " ** 2"));
      pool.submit(jobs.back());
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      Outcome out = jobs[i]->wait();
      EXPECT_EQ(out.kind, Outcome::kValue) << out.text;
      EXPECT_EQ(out.text, std::to_string(i * i));
    }
  }
};

TEST_P(WorkerPoolCancelTest, CancelPendingJobDiscardsIt) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 10; ++round) {
    std::promise<void> open;
    auto blockers = occupy_workers(pool, open.get_future().share());
    auto pending = std::make_shared<PythonJob>("'must not run'");
    pool.submit(pending);
    EXPECT_EQ(pool.cancel(pending), CancelOutcome::kCancelled);
    Outcome out = pending->wait();
    EXPECT_EQ(out.kind, Outcome::kDiscarded);
    EXPECT_EQ(out.reason, StopReason::kCancelled);
    EXPECT_EQ(pending->state(), JobState::kCancelled);
    EXPECT_EQ(pool.cancel(pending), CancelOutcome::kTooLate);  // a second cancel changes nothing
    open.set_value();
    for (auto& b : blockers) EXPECT_EQ(b->wait().text, "'blocker'");
    expect_pool_serves(pool);  // the cancelled job stays in the queue until a worker skips it
    EXPECT_EQ(pending->runs(), 0);
    EXPECT_EQ(pending->discards(), 1);
  }
}

TEST_P(WorkerPoolCancelTest, CancelRunningEndlessJobInterruptsIt) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 5; ++round) {
    std::vector<std::shared_ptr<PythonJob>> loops;
    for (size_t i = 0; i < workers(); ++i) {
      loops.push_back(endless_job());
      pool.submit(loops.back());
    }
    for (auto& loop : loops) await(loop->started(), "an endless job starting");
    for (auto& loop : loops) EXPECT_EQ(pool.cancel(loop), CancelOutcome::kInterrupting);
    for (auto& loop : loops) {
      Outcome out = loop->wait();
      EXPECT_EQ(out.kind, Outcome::kInterrupted) << out.text;
      EXPECT_NE(out.text.find("TaskInterrupted"), std::string::npos) << out.text;
      EXPECT_EQ(out.reason, StopReason::kCancelled);
      EXPECT_EQ(loop->runs(), 1);
      EXPECT_EQ(loop->discards(), 0);
    }
    expect_pool_serves(pool);
  }
}

// The interrupt is a BaseException: user code catching Exception cannot swallow it.
TEST_P(WorkerPoolCancelTest, InterruptPassesThroughExceptExceptionHandlers) {
  WorkerPool pool(pool_options(workers()));
  auto job = std::make_shared<PythonJob>(
      "while True:\n"
      "    try:\n"
      "        while True:\n"
      "            pass\n"
      "    except Exception:\n"
      "        pass\n",
      Py_file_input);
  pool.submit(job);
  await(job->started(), "the job starting");
  EXPECT_EQ(pool.cancel(job), CancelOutcome::kInterrupting);
  EXPECT_EQ(job->wait().kind, Outcome::kInterrupted);
  expect_pool_serves(pool);
}

TEST_P(WorkerPoolCancelTest, CancelFinishedJobIsTooLate) {
  WorkerPool pool(pool_options(workers()));
  auto job = std::make_shared<PythonJob>("7 * 6");
  pool.submit(job);
  EXPECT_EQ(job->wait().text, "42");
  wait_until([&] { return job->state() == JobState::kDone; }, "the job reaching kDone");
  EXPECT_EQ(pool.cancel(job), CancelOutcome::kTooLate);
  EXPECT_EQ(job->stop_reason(), StopReason::kNone);
  expect_pool_serves(pool);
}

TEST_P(WorkerPoolCancelTest, InterruptRunningStopsRunningJobsOnly) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 3; ++round) {
    std::vector<std::shared_ptr<PythonJob>> loops, queued;
    for (size_t i = 0; i < workers(); ++i) {
      loops.push_back(endless_job());
      pool.submit(loops.back());
    }
    for (auto& loop : loops) await(loop->started(), "an endless job starting");
    for (size_t i = 0; i < workers() * 2; ++i) {
      queued.push_back(std::make_shared<PythonJob>(std::to_string(i) + " + 100"));
      pool.submit(queued.back());
    }
    pool.interrupt_running();
    for (auto& loop : loops) {
      Outcome out = loop->wait();
      EXPECT_EQ(out.kind, Outcome::kInterrupted) << out.text;
      EXPECT_EQ(out.reason, StopReason::kCancelled);
    }
    for (size_t i = 0; i < queued.size(); ++i) {  // queued jobs are not affected
      Outcome out = queued[i]->wait();
      EXPECT_EQ(out.kind, Outcome::kValue) << out.text;
      EXPECT_EQ(out.text, std::to_string(i + 100));
    }
  }
}

// Cancels race with workers picking jobs up: whatever the timing, every job ends exactly once,
// and the end agrees with what cancel() answered.
TEST_P(WorkerPoolCancelTest, CancelRacingWithWorkersEndsEveryJobOnce) {
  constexpr int kJobs = 300;
  WorkerPool pool(pool_options(workers()));
  std::vector<std::shared_ptr<PythonJob>> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(counting_job(i * 50));
  std::vector<CancelOutcome> answers(kJobs, CancelOutcome::kTooLate);
  std::vector<bool> cancelled(kJobs, false);
  std::atomic<int> submitted{0};
  std::thread canceller([&] {
    std::mt19937 rng(1234);
    for (int i = 0; i < kJobs; ++i) {
      wait_until([&] { return submitted.load() > i; }, "the job being submitted");
      if (rng() % 2) continue;
      cancelled[i] = true;
      answers[i] = pool.cancel(jobs[i]);
    }
  });
  for (auto& job : jobs) {
    pool.submit(job);
    submitted.fetch_add(1);
  }
  canceller.join();
  for (int i = 0; i < kJobs; ++i) {
    Outcome out = jobs[i]->wait();
    EXPECT_EQ(jobs[i]->ends(), 1) << "job " << i;
    switch (out.kind) {
      case Outcome::kDiscarded:
        EXPECT_TRUE(cancelled[i] && answers[i] == CancelOutcome::kCancelled) << "job " << i;
        EXPECT_EQ(out.reason, StopReason::kCancelled);
        break;
      case Outcome::kInterrupted:
        EXPECT_TRUE(cancelled[i] && answers[i] == CancelOutcome::kInterrupting) << "job " << i;
        EXPECT_EQ(out.reason, StopReason::kCancelled);
        break;
      case Outcome::kValue:
        EXPECT_EQ(out.text, counted(i * 50)) << "job " << i;
        EXPECT_NE(answers[i], CancelOutcome::kCancelled) << "job " << i;
        break;
      case Outcome::kError:
        ADD_FAILURE() << "job " << i << " failed: " << out.text;
    }
  }
  expect_pool_serves(pool);
}

INSTANTIATE_TEST_SUITE_P(Workers, WorkerPoolCancelTest, worker_counts());

// Deadlines and late interrupts, delivered by the pool's Interrupter through Worker::interrupt.
class InterrupterTest : public WorkerPoolCancelTest {};

TEST_P(InterrupterTest, TimeoutInterruptsEndlessJob) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 3; ++round) {
    std::vector<std::shared_ptr<PythonJob>> loops;
    for (size_t i = 0; i < workers(); ++i) {
      loops.push_back(endless_job());
      loops.back()->timeout = 0.05;
      pool.submit(loops.back());
    }
    for (auto& loop : loops) {
      Outcome out = loop->wait();
      EXPECT_EQ(out.kind, Outcome::kInterrupted) << out.text;
      EXPECT_EQ(out.reason, StopReason::kTimedOut);
      EXPECT_EQ(loop->ends(), 1);
    }
    expect_pool_serves(pool);
  }
}

TEST_P(InterrupterTest, JobWithinItsTimeoutEndsNormally) {
  WorkerPool pool(pool_options(workers()));
  for (int i = 0; i < 20; ++i) {
    auto job = std::make_shared<PythonJob>("sum(range(1000))");
    job->timeout = 600;
    pool.submit(job);
    Outcome out = job->wait();
    EXPECT_EQ(out.kind, Outcome::kValue);
    EXPECT_EQ(out.text, "499500");
    EXPECT_EQ(out.reason, StopReason::kNone);
  }
}

// The deadline of a job that already ended must not hit the job its worker runs next. The
// finished jobs stay alive (held here), so the Interrupter does find them when the deadlines
// come; the next jobs run past those deadlines.
TEST_P(InterrupterTest, DeadlineOfFinishedJobSparesNextJob) {
  WorkerPool pool(pool_options(workers()));
  std::vector<std::shared_ptr<PythonJob>> quick, slow;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < workers(); ++i) {
      quick.push_back(std::make_shared<PythonJob>("'quick'"));
      quick.back()->timeout = 0.05;
      pool.submit(quick.back());
      slow.push_back(
          std::make_shared<PythonJob>("import time\n"
                                      "end = time.monotonic() + 0.3\n"
                                      "while time.monotonic() < end:\n"
                                      "    pass\n"
                                      "result = 'slow'\n",
                                      Py_file_input));
      pool.submit(slow.back());
    }
  }
  for (auto& job : quick) {
    Outcome out = job->wait();  // may time out itself on a badly stalled machine: never kCancelled
    if (out.kind != Outcome::kValue) {
      EXPECT_EQ(out.reason, StopReason::kTimedOut);
    }
  }
  for (auto& job : slow) {
    Outcome out = job->wait();
    EXPECT_EQ(out.kind, Outcome::kValue) << out.text;
    EXPECT_EQ(out.reason, StopReason::kNone);
  }
}

// A cancel racing with the end of a short job: it either interrupts that job or does nothing;
// it never reaches the job that runs next on the same worker. The cancel comes after a random
// pause that spans the first job's run, so some land in it, some in the gap between the jobs.
TEST_P(InterrupterTest, LateCancelSparesNextJob) {
  WorkerPool pool(pool_options(workers()));
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    auto first = counting_job(20000);
    auto next = counting_job(200000);
    pool.submit(first);
    pool.submit(next);
    await(first->started(), "the first job starting");
    auto pause = std::chrono::microseconds(rng() % 3000);
    for (auto until = std::chrono::steady_clock::now() + pause;
         std::chrono::steady_clock::now() < until;) {
    }
    pool.cancel(first);
    Outcome a = first->wait();
    EXPECT_EQ(first->ends(), 1);
    if (a.kind == Outcome::kValue) {
      EXPECT_EQ(a.text, counted(20000));
    } else {
      EXPECT_EQ(a.kind, Outcome::kInterrupted) << a.text;
      EXPECT_EQ(a.reason, StopReason::kCancelled);
    }
    Outcome b = next->wait();
    ASSERT_EQ(b.kind, Outcome::kValue) << "round " << round << ": " << b.text;
    EXPECT_EQ(b.text, counted(200000));
  }
}

// An interrupt that reaches a job after its last bytecode (the job is still running, in C++,
// its GIL released) stays pending in the thread; the worker must drop it before the next job.
// Every worker is caught this way at once, then every worker runs one Python loop.
TEST_P(InterrupterTest, InterruptAfterLastBytecodeSparesNextJob) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 5; ++round) {
    std::promise<void> finish, start_next;
    std::shared_future<void> finish_gate = finish.get_future().share();
    std::vector<std::shared_ptr<PythonJob>> firsts, nexts;
    for (size_t i = 0; i < workers(); ++i) {
      firsts.push_back(std::make_shared<PythonJob>("'first'"));
      firsts.back()->set_after_gate(finish_gate);
      pool.submit(firsts.back());
    }
    // Only once its code has run: "started" alone leaves the code running (slow under ASan),
    // and the interrupt would then rightly stop it.
    for (auto& f : firsts) await(f->code_ended(), "every worker ending a first job's code");
    for (auto& f : firsts) EXPECT_EQ(pool.cancel(f), CancelOutcome::kInterrupting);
    // No event tells when the Interrupter has delivered (the GIL it takes is free): give it
    // time. Too short a pause only makes this round prove less, never fail wrongly.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finish.set_value();
    std::shared_future<void> next_gate = start_next.get_future().share();
    for (size_t i = 0; i < workers(); ++i) {
      nexts.push_back(counting_job(100000));
      nexts.back()->set_gate(next_gate);
      pool.submit(nexts.back());
    }
    for (auto& n : nexts) await(n->started(), "every worker starting a next job");
    start_next.set_value();
    for (auto& f : firsts) EXPECT_EQ(f->wait().text, "'first'");  // its code had ended
    for (auto& n : nexts) {
      Outcome out = n->wait();
      EXPECT_EQ(out.kind, Outcome::kValue) << "round " << round << ": " << out.text;
      EXPECT_EQ(out.text, counted(100000));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, InterrupterTest, worker_counts());

}  // namespace
}  // namespace pergil_test
