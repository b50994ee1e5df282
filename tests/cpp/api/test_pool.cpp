// test_pool.cpp: Pool calls, callbacks, map, cancel and shutdown, at 1, 2 and 4 workers.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "api_test.h"

using pergil::CancelledError;
using pergil::CancelReason;
using pergil::Value;

namespace {

class PoolTest : public ::testing::TestWithParam<size_t> {
 protected:
  size_t workers() const { return GetParam(); }
  pergil::PoolOptions options() const { return api_test::options(workers()); }
};

// Counts callback completions and lets a test wait for a number of them.
class Completions {
 public:
  std::function<void(pergil::Result)> callback(int index) {
    return [this, index](pergil::Result r) {
      std::lock_guard<std::mutex> lock(mutex_);
      results_.emplace_back(index, std::move(r));
      done_.notify_all();
    };
  }
  std::vector<std::pair<int, pergil::Result>> wait_for(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return results_.size() >= n; });
    return results_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::pair<int, pergil::Result>> results_;
};

CancelReason cancel_reason(std::future<Value>& f) {
  try {
    f.get();
  } catch (const CancelledError& e) {
    return e.reason();
  }
  ADD_FAILURE() << "the call was not cancelled";
  return CancelReason::kCancelled;
}

}  // namespace

TEST_P(PoolTest, size_is_the_worker_count) {
  pergil::Pool pool(api_test::runtime(), options());
  EXPECT_EQ(pool.size(), workers());
}

TEST_P(PoolTest, zero_workers_means_one_per_hardware_thread) {
  pergil::PoolOptions o = options();
  o.workers = 0;
  pergil::Pool pool(api_test::runtime(), o);
  EXPECT_EQ(pool.size(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST_P(PoolTest, every_future_gets_its_own_result) {
  pergil::Pool pool(api_test::runtime(), options());
  for (int round = 0; round < 5; ++round) {
    std::vector<std::future<Value>> futures;
    for (int i = 0; i < 200; ++i) futures.push_back(pool.submit("api_helpers:square", {i}));
    for (int i = 0; i < 200; ++i) EXPECT_EQ(futures[i].get(), Value(i * i));
  }
}

TEST_P(PoolTest, workers_run_at_once_each_in_its_own_interpreter) {
  pergil::Pool pool(api_test::runtime(), options());
  for (int round = 0; round < 3; ++round) {
    api_test::Gate gate;
    std::vector<std::future<Value>> held;
    for (size_t i = 0; i < workers(); ++i)
      held.push_back(pool.submit("api_helpers:arrive_and_wait", {gate.path()}));
    gate.wait_for_arrivals(workers());  // all of them running at the same time
    gate.open();
    std::set<int64_t> interpreters;
    for (auto& f : held) interpreters.insert(f.get().as_int());
    EXPECT_EQ(interpreters.size(), workers());
  }
}

TEST_P(PoolTest, callbacks_complete_exactly_once) {
  pergil::Pool pool(api_test::runtime(), options());
  Completions completions;
  const int n = 300;
  for (int i = 0; i < n; ++i) pool.submit("api_helpers:square", {i}, completions.callback(i));
  auto results = completions.wait_for(n);
  pool.shutdown();
  std::vector<int> seen(n, 0);
  for (auto& [index, result] : results) {
    ++seen[index];
    EXPECT_EQ(result.value(), Value(index * index));
  }
  for (int i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << i;
  EXPECT_EQ(completions.wait_for(n).size(), static_cast<size_t>(n));
}

TEST_P(PoolTest, callbacks_may_submit_more_calls) {
  pergil::Pool pool(api_test::runtime(), options());
  std::promise<Value> second;
  pool.submit("api_helpers:square", {3}, [&](pergil::Result first) {
    pool.submit("api_helpers:add", {first.value(), 1},
                [&](pergil::Result r) { second.set_value(r.value()); });
  });
  EXPECT_EQ(second.get_future().get(), Value(10));
}

TEST_P(PoolTest, map_keeps_input_order) {
  pergil::Pool pool(api_test::runtime(), options());
  for (int round = 0; round < 5; ++round) {
    std::vector<Value> inputs;
    for (int i = 0; i < 100; ++i) inputs.emplace_back(i - 50);
    std::vector<Value> out = pool.map("api_helpers:square", inputs);
    ASSERT_EQ(out.size(), inputs.size());
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t x = static_cast<int64_t>(i) - 50;
      EXPECT_EQ(out[i], Value(x * x));
    }
  }
  EXPECT_TRUE(pool.map("api_helpers:square", {}).empty());
}

TEST_P(PoolTest, map_rethrows_the_first_failure_after_the_rest_ended) {
  pergil::Pool pool(api_test::runtime(), options());
  std::vector<Value> inputs = {1, 2, "x", 4, Value(), 6};
  try {
    pool.map("api_helpers:square", inputs);
    FAIL() << "map did not fail";
  } catch (const pergil::PythonError& e) {
    EXPECT_EQ(e.type_name(), "TypeError");
    EXPECT_NE(std::string(e.message()).find("'str'"), std::string::npos) << e.message();
  }
  // The pool is idle and usable afterwards.
  EXPECT_EQ(pool.map("api_helpers:square", {7}), std::vector<Value>{49});
}

TEST_P(PoolTest, many_host_threads_submit_at_once) {
  pergil::Pool pool(api_test::runtime(), options());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<Value>> futures;
      for (int i = 0; i < 100; ++i)
        futures.push_back(pool.submit("api_helpers:add", {t * 1000, i}));
      for (int i = 0; i < 100; ++i)
        if (futures[i].get() != Value(t * 1000 + i)) ++wrong;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(PoolTest, shutdown_waiting_runs_everything_queued) {
  pergil::Pool pool(api_test::runtime(), options());
  std::vector<std::future<Value>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(pool.submit("api_helpers:sleep_then", {0.001, i}));
  pool.shutdown(/*wait=*/true);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(futures[i].wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(futures[i].get(), Value(i));
  }
  EXPECT_THROW(pool.submit("api_helpers:square", {1}), pergil::Error);
  pool.shutdown();  // repeatable
}

TEST_P(PoolTest, shutdown_cancelling_pending_work) {
  for (int round = 0; round < 3; ++round) {
    pergil::Pool pool(api_test::runtime(), options());
    api_test::Gate gate;
    std::vector<std::future<Value>> running, pending;
    for (size_t i = 0; i < workers(); ++i)
      running.push_back(pool.submit("api_helpers:arrive_and_wait", {gate.path()}));
    gate.wait_for_arrivals(workers());  // every worker is busy: the next calls stay queued
    for (int i = 0; i < 20; ++i) pending.push_back(pool.submit("api_helpers:square", {i}));
    pool.shutdown(/*wait=*/false, /*cancel_pending=*/true);
    for (auto& f : pending) EXPECT_EQ(cancel_reason(f), CancelReason::kShutdown);
    gate.open();
    pool.shutdown(/*wait=*/true);
    for (auto& f : running) EXPECT_TRUE(f.get().is_int());  // running calls finished normally
  }
}

TEST_P(PoolTest, shutdown_interrupting_running_work) {
  pergil::Pool pool(api_test::runtime(), options());
  std::vector<std::future<Value>> spinning;
  for (size_t i = 0; i < workers(); ++i)
    spinning.push_back(pool.submit("api_helpers:spin_forever"));
  auto queued = pool.submit("api_helpers:spin_forever");
  pool.shutdown(/*wait=*/true, /*cancel_pending=*/true, /*interrupt_running=*/true);
  // Whichever spin calls had started were interrupted; the others never ran.
  int interrupted = 0;
  spinning.push_back(std::move(queued));
  for (auto& f : spinning) interrupted += cancel_reason(f) == CancelReason::kCancelled;
  EXPECT_LE(interrupted, static_cast<int>(workers()));
}

TEST_P(PoolTest, task_cancel_pending_running_and_finished) {
  pergil::Pool pool(api_test::runtime(), options());
  Completions done;
  api_test::Gate gate;
  std::vector<pergil::Task> blockers;
  for (size_t i = 0; i < workers(); ++i)
    blockers.push_back(pool.submit("api_helpers:arrive_and_wait", {gate.path()}, done.callback(0)));
  gate.wait_for_arrivals(workers());
  pergil::Task pending = pool.submit("api_helpers:square", {5}, done.callback(1));
  EXPECT_TRUE(pending.cancel());  // queued behind the blockers: completes on this thread, now
  auto after_pending = done.wait_for(1);
  ASSERT_EQ(after_pending.size(), 1u);
  EXPECT_EQ(after_pending[0].first, 1);
  EXPECT_THROW(after_pending[0].second.value(), CancelledError);

  for (auto& blocker : blockers) EXPECT_TRUE(blocker.cancel());  // interrupts their wait
  auto all = done.wait_for(1 + workers());
  for (size_t i = 1; i < all.size(); ++i) {
    try {
      all[i].second.value();
      ADD_FAILURE() << "a cancelled call returned";
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.reason(), CancelReason::kCancelled);
    }
  }
  std::promise<void> finished;
  pergil::Task quick =
      pool.submit("api_helpers:square", {2}, [&](pergil::Result) { finished.set_value(); });
  finished.get_future().wait();
  pool.shutdown();
  EXPECT_FALSE(quick.cancel());
  EXPECT_FALSE(pergil::Task().cancel());
}

TEST_P(PoolTest, destructor_waits_for_queued_calls) {
  std::vector<std::future<Value>> futures;
  {
    pergil::Pool pool(api_test::runtime(), options());
    for (int i = 0; i < 40; ++i)
      futures.push_back(pool.submit("api_helpers:sleep_then", {0.001, i}));
  }
  for (int i = 0; i < 40; ++i) EXPECT_EQ(futures[i].get(), Value(i));
}

TEST_P(PoolTest, pools_move) {
  pergil::Pool first(api_test::runtime(), options());
  auto before = first.submit("api_helpers:square", {4});
  pergil::Pool second = std::move(first);
  EXPECT_EQ(before.get(), Value(16));
  EXPECT_EQ(second.submit("api_helpers:square", {5}).get(), Value(25));
  EXPECT_THROW(first.submit("api_helpers:square", {1}), std::logic_error);  // NOLINT: moved from
  pergil::Pool third(api_test::runtime(), options());
  third = std::move(second);
  EXPECT_EQ(third.size(), workers());
}

TEST_P(PoolTest, several_pools_at_once_and_in_turn) {
  for (int round = 0; round < 3; ++round) {
    pergil::Pool a(api_test::runtime(), options());
    pergil::Pool b(api_test::runtime(), options());
    auto fa = a.submit("api_helpers:square", {round});
    auto fb = b.submit("api_helpers:add", {round, 1});
    EXPECT_EQ(fa.get(), Value(round * round));
    EXPECT_EQ(fb.get(), Value(round + 1));
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, PoolTest, ::testing::Values(1, 2, 4));
