// test_conversion.cpp: Values reach Python as the right types and come back equal, both ways.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "api_test.h"

using pergil::PythonError;
using pergil::Value;

namespace {

class ConversionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pool_ = new pergil::Pool(api_test::runtime(), api_test::options(2));
  }
  static void TearDownTestSuite() {
    delete pool_;
    pool_ = nullptr;
  }
  static Value call(const char* target, std::vector<Value> args) {
    return pool_->submit(target, std::move(args)).get();
  }
  static Value identity(Value v) { return call("api_helpers:identity", {std::move(v)}); }
  static Value make(const char* kind) { return call("api_helpers:make", {kind}); }
  // The PythonError that make(kind) ends with.
  static PythonError make_error(const char* kind) {
    try {
      make(kind);
    } catch (const PythonError& e) {
      return e;
    }
    ADD_FAILURE() << "make(" << kind << ") converted";
    return PythonError("", "", "");
  }
  static pergil::Pool* pool_;
};

pergil::Pool* ConversionTest::pool_ = nullptr;

Value sample() {
  return Value::map({{"none", Value()},
                     {"bool", true},
                     {"int", -123456789012345},
                     {"double", 0.25},
                     {"string", "grüße, 世界"},
                     {"bytes", Value::bytes("\x00\x01\xff", 3)},
                     {"list", Value::list({1, "two", Value::list({3.0})})},
                     {"empty", Value::map({})}});
}

}  // namespace

TEST_F(ConversionTest, each_type_round_trips) {
  Value all = sample();
  for (const auto& [name, value] : all.as_map()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(identity(value), value);
  }
  EXPECT_EQ(identity(all), all);
}

TEST_F(ConversionTest, python_sees_python_types) {
  Value names = call("api_helpers:type_names", {Value(), false, 1, 1.0, "s", Value::bytes("b"),
                                                Value::list({1, "a"}), Value::map({{"k", 1.0}})});
  EXPECT_EQ(names, Value::list({"NoneType", "bool", "int", "float", "str", "bytes", "list[int,str]",
                                "dict{str:float}"}));
}

TEST_F(ConversionTest, arguments_reach_the_function_in_order) {
  EXPECT_EQ(call("api_helpers:add", {40, 2}), Value(42));
  EXPECT_EQ(call("api_helpers:add", {"py", "thon"}), Value("python"));
  EXPECT_EQ(call("api_helpers:add", {Value::list({1}), Value::list({"x"})}), Value::list({1, "x"}));
}

TEST_F(ConversionTest, dotted_function_names_resolve) {
  EXPECT_EQ(call("api_helpers:Greeter.greet", {"ada"}), Value("hello ada"));
}

TEST_F(ConversionTest, python_only_types_arrive_as_their_nearest_value) {
  EXPECT_EQ(make("tuple"), Value::list({1, "two", Value::list({3.0, Value()})}));
  EXPECT_EQ(make("bytearray"), Value::bytes("\x00\xff"
                                            "ab",
                                            4));
  EXPECT_EQ(make("intenum"), Value(1));
  EXPECT_EQ(
      make("nested"),
      Value::map(
          {{"a", Value::list({1, Value::map({{"b", Value::list({true, Value::bytes("x")})}})})},
           {"c", Value::map({})}}));
  EXPECT_EQ(make("unicode"), Value("grüße, 世界, 🐍"));
}

TEST_F(ConversionTest, int64_limits_round_trip_and_beyond_fails) {
  EXPECT_EQ(make("int64_limits"), Value::list({INT64_MAX, INT64_MIN}));
  EXPECT_EQ(identity(INT64_MIN), Value(INT64_MIN));
  PythonError e = make_error("too_big");
  EXPECT_EQ(e.type_name(), "OverflowError");
  EXPECT_EQ(e.message(), "result[1]: int does not fit in pergil::Value's int64");
  EXPECT_EQ(make_error("too_small").type_name(), "OverflowError");
}

TEST_F(ConversionTest, non_finite_doubles_round_trip) {
  EXPECT_TRUE(std::isnan(identity(std::nan("")).as_double()));
  EXPECT_EQ(identity(-HUGE_VAL), Value(-HUGE_VAL));
}

TEST_F(ConversionTest, unsupported_results_fail_naming_type_and_place) {
  PythonError set_error = make_error("set_inside");
  EXPECT_EQ(set_error.type_name(), "TypeError");
  EXPECT_NE(set_error.message().find("result[1]['k']: cannot convert an object of type 'set'"),
            std::string::npos)
      << set_error.message();
  PythonError object_error = make_error("object");
  EXPECT_NE(object_error.message().find("type 'object'"), std::string::npos);
  PythonError key_error = make_error("int_key");
  EXPECT_EQ(key_error.type_name(), "TypeError");
  EXPECT_EQ(key_error.message(), "result: a dict key of type 'int' is not str");
  EXPECT_EQ(make_error("surrogate").type_name(), "ValueError");
}

TEST_F(ConversionTest, nesting_is_bounded_both_ways) {
  EXPECT_EQ(call("api_helpers:depth", {make("deep")}), Value(900));
  EXPECT_EQ(make_error("too_deep").type_name(), "RecursionError");
  EXPECT_EQ(make_error("self_list").type_name(), "RecursionError");
  Value deep = 0;
  for (int i = 0; i < 5000; ++i) {  // moved, not copied through an initializer_list: O(n)
    Value::List wrapper;
    wrapper.push_back(std::move(deep));
    deep = Value(std::move(wrapper));
  }
  try {
    identity(std::move(deep));
    FAIL() << "a 5000-deep argument converted";
  } catch (const PythonError& e) {
    EXPECT_EQ(e.type_name(), "RecursionError");
  }
}

TEST_F(ConversionTest, invalid_utf8_argument_fails_naming_the_argument) {
  try {
    call("api_helpers:identity", {Value::map({{"k", Value::list({"ok", "\xff"})}})});
    FAIL() << "invalid UTF-8 converted";
  } catch (const PythonError& e) {
    EXPECT_EQ(e.type_name(), "ValueError");
    EXPECT_NE(e.message().find("args[0]['k'][1]: string is not valid UTF-8"), std::string::npos)
        << e.message();
  }
}

TEST_F(ConversionTest, big_values_round_trip) {
  Value big_list = make("big_list");
  ASSERT_EQ(big_list.size(), 100000u);
  EXPECT_EQ(big_list.at(99999), Value(99999));
  Value big_bytes = make("big_bytes");
  ASSERT_EQ(big_bytes.size(), 8u * 1024 * 1024);
  EXPECT_EQ(big_bytes.as_bytes()[257], std::byte{1});
  EXPECT_EQ(identity(big_bytes), big_bytes);
  EXPECT_EQ(identity(big_list), big_list);
  Value::Map wide;
  for (int i = 0; i < 20000; ++i) wide.emplace("key" + std::to_string(i), Value::list({i, "v"}));
  Value wide_map(std::move(wide));
  EXPECT_EQ(identity(wide_map), wide_map);
  std::string long_text(3 * 1024 * 1024, 'x');
  long_text += "é";
  EXPECT_EQ(identity(long_text), Value(long_text));
}
