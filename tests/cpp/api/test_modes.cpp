// test_modes.cpp: pergil::Mode (serial, threads, processes, interpreters) and task events, at
// 1, 2 and 4 workers: the same calls give the same results, errors and events in every mode.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "api_test.h"

using pergil::CancelledError;
using pergil::CancelReason;
using pergil::Mode;
using pergil::TaskEvent;
using pergil::Value;

namespace {

// Records every task event, thread-safely.
class EventLog {
 public:
  std::function<void(const TaskEvent&)> callback() {
    return [this](const TaskEvent& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(e);
    };
  }
  std::vector<TaskEvent> events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  // Whether call `task` has a kFinished event already.
  bool finished(uint64_t task) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const TaskEvent& e : events_)
      if (e.task == task && e.kind == TaskEvent::Kind::kFinished) return true;
    return false;
  }

 private:
  std::mutex mutex_;
  std::vector<TaskEvent> events_;
};

class ModeTest : public ::testing::TestWithParam<std::tuple<Mode, size_t>> {
 protected:
  Mode mode() const { return std::get<0>(GetParam()); }
  size_t workers() const { return std::get<1>(GetParam()); }
  size_t expected_size() const { return mode() == Mode::kSerial ? 1 : workers(); }
  pergil::PoolOptions options() const {
    pergil::PoolOptions o = api_test::options(workers());
    o.mode = mode();
    return o;
  }
};

std::string param_name(const ::testing::TestParamInfo<std::tuple<Mode, size_t>>& info) {
  return std::string(pergil::mode_name(std::get<0>(info.param))) + "_" +
         std::to_string(std::get<1>(info.param));
}

}  // namespace

TEST(mode_names, match_the_command_line_and_round_trip) {
  EXPECT_STREQ(pergil::mode_name(Mode::kSerial), "serial");
  EXPECT_STREQ(pergil::mode_name(Mode::kThreads), "threads");
  EXPECT_STREQ(pergil::mode_name(Mode::kProcesses), "processes");
  EXPECT_STREQ(pergil::mode_name(Mode::kInterpreters), "interpreters");
  for (Mode m : {Mode::kSerial, Mode::kThreads, Mode::kProcesses, Mode::kInterpreters})
    EXPECT_EQ(pergil::parse_mode(pergil::mode_name(m)), m);
  EXPECT_FALSE(pergil::parse_mode("thread").has_value());
  EXPECT_FALSE(pergil::parse_mode("").has_value());
}

TEST_P(ModeTest, size_and_mode) {
  pergil::Pool pool(api_test::runtime(), options());
  EXPECT_EQ(pool.size(), expected_size());
  EXPECT_EQ(pool.mode(), mode());
}

TEST_P(ModeTest, map_gives_the_same_results_in_every_mode) {
  pergil::Pool pool(api_test::runtime(), options());
  for (int round = 0; round < 2; ++round) {
    std::vector<Value> inputs;
    for (int i = 0; i < 30; ++i) inputs.emplace_back(i);
    std::vector<Value> results = pool.map("api_helpers:square", inputs);
    ASSERT_EQ(results.size(), 30u);
    for (int i = 0; i < 30; ++i) EXPECT_EQ(results[i], Value(i * i));
  }
  EXPECT_EQ(
      pool.submit("api_helpers:make", {"nested"}).get(),
      Value::map(
          {{"a", Value::list({1, Value::map({{"b", Value::list({true, Value::bytes("x")})}})})},
           {"c", Value::map({})}}));
}

TEST_P(ModeTest, python_errors_arrive_with_the_worker_traceback) {
  pergil::Pool pool(api_test::runtime(), options());
  try {
    pool.submit("api_helpers:fail", {"value"}).get();
    FAIL() << "no exception";
  } catch (const pergil::PythonError& e) {
    EXPECT_EQ(e.type_name(), "ValueError");
    EXPECT_EQ(e.message(), "bad input 42");
    EXPECT_NE(e.traceback().find("_raise_value_error"), std::string::npos) << e.traceback();
  }
  try {
    pool.submit("api_helpers_missing:f", {}).get();
    FAIL() << "no exception";
  } catch (const pergil::PythonError& e) {
    EXPECT_EQ(e.type_name(), "ModuleNotFoundError");
  }
  EXPECT_THROW(pool.submit("no colon", {}), std::invalid_argument);
}

TEST_P(ModeTest, every_call_starts_and_ends_once_on_a_worker) {
  EventLog log;
  pergil::PoolOptions o = options();
  o.on_task_event = log.callback();
  // One byte per call, not std::vector<bool>: its bits share words, and callbacks of different
  // calls write them from different threads at once (a data race TSan reports).
  std::vector<char> finished_first(40, 0);
  {
    pergil::Pool pool(api_test::runtime(), o);
    std::vector<std::future<void>> done;
    for (uint64_t i = 0; i < 40; ++i) {
      auto promise = std::make_shared<std::promise<void>>();
      done.push_back(promise->get_future());
      pergil::Task task = pool.submit("api_helpers:square", {static_cast<int>(i)},
                                      [&, i, promise](pergil::Result r) {
                                        finished_first[i] = log.finished(i) && r.ok();
                                        promise->set_value();
                                      });
      EXPECT_EQ(task.id(), i);
    }
    for (auto& d : done) d.wait();
  }
  std::map<uint64_t, std::vector<TaskEvent>> by_task;
  for (const TaskEvent& e : log.events()) by_task[e.task].push_back(e);
  ASSERT_EQ(by_task.size(), 40u);
  std::set<size_t> lanes;
  for (auto& [task, events] : by_task) {
    ASSERT_EQ(events.size(), 2u) << "task " << task;
    EXPECT_EQ(events[0].kind, TaskEvent::Kind::kStarted);
    EXPECT_EQ(events[1].kind, TaskEvent::Kind::kFinished);
    EXPECT_LE(events[0].time, events[1].time);
    EXPECT_EQ(events[0].worker, events[1].worker);
    EXPECT_LT(events[0].worker, expected_size());
    EXPECT_TRUE(finished_first[task]) << "kFinished comes before the completion callback";
    lanes.insert(events[0].worker);
  }
  EXPECT_LE(lanes.size(), expected_size());
}

TEST_P(ModeTest, busy_workers_run_at_once_and_queued_calls_cancel) {
  EventLog log;
  pergil::PoolOptions o = options();
  o.on_task_event = log.callback();
  pergil::Pool pool(api_test::runtime(), o);
  api_test::Gate gate;
  std::vector<std::future<Value>> blockers;
  for (size_t i = 0; i < pool.size(); ++i)
    blockers.push_back(pool.submit("api_helpers:arrive_and_wait_anywhere", {gate.path()}));
  gate.wait_for_arrivals(pool.size());  // each blocker holds its own worker
  // A process pool moves workers + 1 calls into its call queue, where they cannot be cancelled:
  // the last of eight queued calls is still in its pending queue in every mode.
  std::vector<std::future<pergil::Result>> outcomes;
  std::vector<pergil::Task> queued_tasks;
  for (int i = 0; i < 8; ++i) {
    auto promise = std::make_shared<std::promise<pergil::Result>>();
    outcomes.push_back(promise->get_future());
    queued_tasks.push_back(pool.submit("api_helpers:square", {i},
                                       [promise](pergil::Result r) { promise->set_value(r); }));
  }
  pergil::Task& queued = queued_tasks.back();
  EXPECT_TRUE(queued.cancel());
  pergil::Result result = outcomes.back().get();
  EXPECT_THROW(result.value(), CancelledError);
  gate.open();
  for (int i = 0; i < 7; ++i) EXPECT_EQ(outcomes[i].get().value(), Value(i * i));
  std::set<std::string> places;
  for (auto& b : blockers) places.insert(b.get().as_string());
  EXPECT_EQ(places.size(), pool.size());
  EXPECT_FALSE(queued.cancel());
  for (const TaskEvent& e : log.events()) EXPECT_NE(e.task, queued.id()) << "it never started";
}

TEST_P(ModeTest, shutdown_cancels_pending_calls) {
  pergil::Pool pool(api_test::runtime(), options());
  api_test::Gate gate;
  std::vector<std::future<Value>> blockers, pending;
  for (size_t i = 0; i < pool.size(); ++i)
    blockers.push_back(pool.submit("api_helpers:arrive_and_wait_anywhere", {gate.path()}));
  gate.wait_for_arrivals(pool.size());
  for (int i = 0; i < 12; ++i) pending.push_back(pool.submit("api_helpers:square", {i}));
  pool.shutdown(/*wait=*/false, /*cancel_pending=*/true);
  gate.open();
  // A process pool has moved up to workers + 1 calls into its call queue: those still run.
  size_t cancelled = 0;
  for (int i = 0; i < 12; ++i) {
    try {
      EXPECT_EQ(pending[i].get(), Value(i * i));
      EXPECT_EQ(mode(), Mode::kProcesses) << "a pending call ran";
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.reason(), CancelReason::kShutdown);
      ++cancelled;
    }
  }
  EXPECT_GE(cancelled, mode() == Mode::kProcesses ? 12 - pool.size() - 1 : 12u);
  pool.shutdown(/*wait=*/true);
  for (auto& f : blockers) EXPECT_TRUE(f.get().is_string());
  EXPECT_THROW(pool.submit("api_helpers:square", {1}), pergil::Error);
}

TEST_P(ModeTest, interrupting_shutdown_stops_interruptible_modes) {
  pergil::Pool pool(api_test::runtime(), options());
  api_test::Gate gate;  // opened only for the modes that cannot interrupt
  std::vector<std::future<Value>> running;
  for (size_t i = 0; i < pool.size(); ++i)
    running.push_back(pool.submit("api_helpers:arrive_and_wait_anywhere", {gate.path()}));
  gate.wait_for_arrivals(pool.size());
  bool interruptible = mode() == Mode::kProcesses || mode() == Mode::kInterpreters;
  pool.shutdown(/*wait=*/interruptible, /*cancel_pending=*/true, /*interrupt_running=*/true);
  if (!interruptible) gate.open();  // threads of the main interpreter run to their end
  for (auto& f : running) {
    try {
      EXPECT_TRUE(f.get().is_string());
      EXPECT_FALSE(interruptible) << "the call was not interrupted";
    } catch (const CancelledError& e) {
      EXPECT_TRUE(interruptible);
      EXPECT_EQ(e.reason(), CancelReason::kCancelled);
    }
  }
}

TEST_P(ModeTest, user_sys_path_reaches_the_workers) {
  pergil::PoolOptions o = options();
  o.sys_path = {PERGIL_TEST_PYTHON_DIR, "/nonexistent/pergil-first"};
  pergil::Pool pool(api_test::runtime(), o);
  Value path = pool.submit("api_helpers:first_sys_path", {}).get();
  // Executor modes share one sys.path with the host: the entries are added in front once.
  EXPECT_TRUE(path == Value(PERGIL_TEST_PYTHON_DIR) || path == Value("/nonexistent/pergil-first"))
      << path;
}

INSTANTIATE_TEST_SUITE_P(Modes, ModeTest,
                         ::testing::Combine(::testing::Values(Mode::kSerial, Mode::kThreads,
                                                              Mode::kProcesses,
                                                              Mode::kInterpreters),
                                            ::testing::Values(1, 2, 4)),
                         param_name);
