// test_errors.cpp: Python exceptions, missing targets, bad arguments and broken pools in C++.
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <string>

#include "api_test.h"

using pergil::PythonError;
using pergil::Value;

namespace {

// The PythonError that target(args) ends with.
PythonError error_of(pergil::Pool& pool, const char* target, std::vector<Value> args) {
  try {
    Value v = pool.submit(target, std::move(args)).get();
    ADD_FAILURE() << target << " returned " << v;
  } catch (const PythonError& e) {
    return e;
  }
  return PythonError("", "", "");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ErrorTest : public ::testing::TestWithParam<size_t> {
 protected:
  pergil::Pool pool_{api_test::runtime(), api_test::options(GetParam())};
};

}  // namespace

TEST_P(ErrorTest, exception_type_message_and_traceback_arrive) {
  PythonError e = error_of(pool_, "api_helpers:fail", {"value"});
  EXPECT_EQ(e.type_name(), "ValueError");
  EXPECT_EQ(e.message(), "bad input 42");
  EXPECT_STREQ(e.what(), "ValueError: bad input 42");
  const std::string& tb = e.traceback();
  EXPECT_EQ(tb.rfind("Traceback (most recent call last):\n", 0), 0u) << tb;
  EXPECT_TRUE(contains(tb, "api_helpers.py")) << tb;
  EXPECT_TRUE(contains(tb, "in fail")) << tb;
  EXPECT_TRUE(contains(tb, "in _raise_value_error")) << tb;
  EXPECT_TRUE(tb.size() > 25 && tb.substr(tb.size() - 25) == "ValueError: bad input 42\n") << tb;
  // A std::runtime_error too, for hosts that catch only those.
  EXPECT_THROW(pool_.submit("api_helpers:fail", {"value"}).get(), std::runtime_error);
}

TEST_P(ErrorTest, user_exception_types_are_qualified) {
  PythonError e = error_of(pool_, "api_helpers:fail", {"custom"});
  EXPECT_EQ(e.type_name(), "api_helpers.CustomError");
  EXPECT_EQ(e.message(), "custom failure");
}

TEST_P(ErrorTest, chained_exceptions_keep_their_cause_in_the_traceback) {
  PythonError e = error_of(pool_, "api_helpers:fail", {"chained"});
  EXPECT_EQ(e.type_name(), "RuntimeError");
  EXPECT_TRUE(contains(e.traceback(), "KeyError: 'missing'")) << e.traceback();
  EXPECT_TRUE(contains(e.traceback(), "direct cause")) << e.traceback();
}

TEST_P(ErrorTest, empty_message_gives_just_the_type) {
  PythonError e = error_of(pool_, "api_helpers:fail", {"empty"});
  EXPECT_EQ(e.message(), "");
  EXPECT_STREQ(e.what(), "ValueError");
}

TEST_P(ErrorTest, missing_module_and_function) {
  PythonError module = error_of(pool_, "no_such_module_pergil:f", {});
  EXPECT_EQ(module.type_name(), "ModuleNotFoundError");
  EXPECT_TRUE(contains(module.message(), "no_such_module_pergil"));
  PythonError function = error_of(pool_, "api_helpers:no_such_function", {});
  EXPECT_EQ(function.type_name(), "AttributeError");
  EXPECT_TRUE(contains(function.message(), "no_such_function"));
  PythonError attribute = error_of(pool_, "api_helpers:Greeter.nope", {});
  EXPECT_EQ(attribute.type_name(), "AttributeError");
}

TEST_P(ErrorTest, bad_arguments_raise_type_error) {
  EXPECT_EQ(error_of(pool_, "api_helpers:add", {1}).type_name(), "TypeError");
  EXPECT_EQ(error_of(pool_, "api_helpers:add", {1, "a"}).type_name(), "TypeError");
  EXPECT_EQ(error_of(pool_, "api_helpers:_initialized_with", {}).type_name(), "TypeError");
}

TEST_P(ErrorTest, malformed_targets_are_refused_at_once) {
  for (const char* target : {"no_colon", ":f", "m:", "a:b:c", ""})
    EXPECT_THROW(pool_.submit(target, {}), std::invalid_argument) << target;
}

TEST_P(ErrorTest, errors_through_callbacks) {
  std::promise<pergil::Result> done;
  pool_.submit("api_helpers:fail", {"value"}, [&](pergil::Result r) { done.set_value(r); });
  pergil::Result r = done.get_future().get();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error_message(), "ValueError: bad input 42");
  EXPECT_THROW(r.value(), PythonError);
}

TEST_P(ErrorTest, empty_callback_is_refused) {
  EXPECT_THROW(pool_.submit("api_helpers:square", {1}, std::function<void(pergil::Result)>()),
               std::invalid_argument);
}

TEST_P(ErrorTest, workers_keep_working_after_errors) {
  for (int round = 0; round < 20; ++round) {
    auto failing = pool_.submit("api_helpers:fail", {"value"});
    auto missing = pool_.submit("nope_module:f", {});
    auto fine = pool_.submit("api_helpers:square", {round});
    EXPECT_THROW(failing.get(), PythonError);
    EXPECT_THROW(missing.get(), PythonError);
    EXPECT_EQ(fine.get(), Value(round * round));
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, ErrorTest, ::testing::Values(1, 2, 4));

TEST(initializer_test, runs_in_every_worker_with_its_arguments) {
  for (size_t workers : {1, 2, 4}) {
    pergil::PoolOptions o = api_test::options(workers);
    o.initializer = "api_helpers:initialize";
    o.initializer_args = {Value::map({{"ready", true}})};
    pergil::Pool pool(api_test::runtime(), o);
    api_test::Gate gate;
    std::vector<std::future<Value>> held;  // one per worker, all at the gate at once
    for (size_t i = 0; i < workers; ++i)
      held.push_back(pool.submit("api_helpers:initialized_at_gate", {gate.path()}));
    gate.wait_for_arrivals(workers);
    gate.open();
    std::set<int64_t> interpreters;
    for (auto& f : held) {
      Value seen = f.get();
      interpreters.insert(seen.at(0).as_int());
      EXPECT_EQ(seen.at(1), Value::map({{"ready", true}}));
    }
    EXPECT_EQ(interpreters.size(), workers);
    for (const Value& seen : pool.map("api_helpers:initialized_with", std::vector<Value>(8)))
      EXPECT_EQ(seen, Value::map({{"ready", true}}));
  }
}

TEST(initializer_test, failing_initializer_breaks_the_pool) {
  pergil::PoolOptions o = api_test::options(2);
  o.initializer = "api_helpers:failing_initializer";
  pergil::Pool pool(api_test::runtime(), o);
  // Calls queued before the workers fail are discarded; later submits are refused.
  try {
    pool.submit("api_helpers:square", {3}).get();
    FAIL() << "a call ran in a broken pool";
  } catch (const pergil::BrokenPoolError& e) {
    EXPECT_TRUE(contains(e.what(), "api_helpers:failing_initializer")) << e.what();
    EXPECT_TRUE(contains(e.what(), "RuntimeError: initializer refuses")) << e.what();
  }
  EXPECT_THROW(pool.submit("api_helpers:square", {3}), pergil::BrokenPoolError);
}

TEST(initializer_test, malformed_initializer_is_refused) {
  pergil::PoolOptions o = api_test::options(1);
  o.initializer = "no_colon";
  EXPECT_THROW(pergil::Pool(api_test::runtime(), o), std::invalid_argument);
}

TEST(sys_path_test, additions_come_first) {
  pergil::Pool pool(api_test::runtime(), api_test::options(1));
  EXPECT_EQ(pool.submit("api_helpers:first_sys_path").get(), Value(PERGIL_TEST_PYTHON_DIR));
}
