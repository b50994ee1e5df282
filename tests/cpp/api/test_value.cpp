// test_value.cpp: pergil::Value on its own: construction, access, equality, copies, text.
#include <gtest/gtest.h>
#include <pergil/errors.h>
#include <pergil/value.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

using pergil::Bytes;
using pergil::Value;

TEST(value_test, each_type_holds_what_it_was_made_from) {
  EXPECT_TRUE(Value().is_none());
  EXPECT_TRUE(Value(nullptr).is_none());
  EXPECT_EQ(Value(true).as_bool(), true);
  EXPECT_EQ(Value(42).as_int(), 42);
  EXPECT_EQ(Value(int64_t{-7}).as_int(), -7);
  EXPECT_EQ(Value(uint8_t{200}).as_int(), 200);
  EXPECT_EQ(Value(2.5).as_double(), 2.5);
  EXPECT_EQ(Value(1.5f).type(), Value::Type::kDouble);
  EXPECT_EQ(Value("text").as_string(), "text");  // a string, not a bool
  EXPECT_EQ(Value(std::string("s")).as_string(), "s");
  EXPECT_EQ(Value(std::string_view("v")).as_string(), "v");
  EXPECT_EQ(Value::bytes("a\0b", 3).as_bytes().size(), 3u);
  EXPECT_EQ(Value::list({1, "a"}).as_list().size(), 2u);
  EXPECT_EQ(Value::map({{"k", 1}}).as_map().at("k"), Value(1));
}

TEST(value_test, type_names) {
  EXPECT_STREQ(Value().type_name(), "none");
  EXPECT_STREQ(Value(1).type_name(), "int");
  EXPECT_STREQ(Value(1.0).type_name(), "double");
  EXPECT_STREQ(Value::bytes("").type_name(), "bytes");
  EXPECT_STREQ(Value::map({}).type_name(), "map");
}

TEST(value_test, wrong_type_access_throws_value_type_error) {
  EXPECT_THROW(Value("1").as_int(), pergil::ValueTypeError);
  EXPECT_THROW(Value(1).as_string(), pergil::ValueTypeError);
  EXPECT_THROW(Value(1.5).as_int(), pergil::ValueTypeError);
  EXPECT_THROW(Value().as_list(), pergil::ValueTypeError);
  EXPECT_THROW(Value(true).as_int(), pergil::ValueTypeError);
  EXPECT_THROW(Value(3).size(), pergil::ValueTypeError);
  try {
    Value("x").as_map();
    FAIL();
  } catch (const pergil::ValueTypeError& e) {
    EXPECT_STREQ(e.what(), "pergil::Value holds string, not map");
  }
}

TEST(value_test, as_double_accepts_an_int) { EXPECT_EQ(Value(3).as_double(), 3.0); }

TEST(value_test, unsigned_above_int64_max_is_refused) {
  EXPECT_EQ(Value(uint64_t{INT64_MAX}).as_int(), INT64_MAX);
  EXPECT_THROW(Value(uint64_t{INT64_MAX} + 1), std::out_of_range);
}

TEST(value_test, element_access) {
  Value v = Value::map({{"list", Value::list({10, 20})}});
  EXPECT_EQ(v.at("list").at(1), Value(20));
  EXPECT_THROW(v.at("missing"), std::out_of_range);
  EXPECT_THROW(v.at("list").at(2), std::out_of_range);
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(Value("héllo").size(), 6u);  // UTF-8 bytes
}

TEST(value_test, equality_is_typed_and_deep) {
  EXPECT_EQ(Value(1), Value(1));
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value(1), Value(true));
  EXPECT_NE(Value("a"), Value::bytes("a"));
  EXPECT_EQ(Value::list({1, Value::map({{"a", "b"}})}), Value::list({1, Value::map({{"a", "b"}})}));
  EXPECT_NE(Value::list({1, Value::map({{"a", "b"}})}), Value::list({1, Value::map({{"a", "c"}})}));
  EXPECT_NE(Value(std::nan("")), Value(std::nan("")));
  EXPECT_EQ(Value(), Value(nullptr));
}

TEST(value_test, copies_are_deep_and_moves_leave_none) {
  Value original = Value::map({{"k", Value::list({1, 2})}});
  Value copy = original;
  copy.as_map()["k"].as_list().push_back(3);
  EXPECT_EQ(original.at("k").size(), 2u);
  EXPECT_EQ(copy.at("k").size(), 3u);

  Value moved = std::move(copy);
  EXPECT_TRUE(copy.is_none());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(moved.at("k").size(), 3u);
  Value assigned;
  assigned = std::move(moved);
  EXPECT_TRUE(moved.is_none());  // NOLINT(bugprone-use-after-move)
  assigned = assigned;           // self-assignment keeps the value
  EXPECT_EQ(assigned.at("k").size(), 3u);
}

TEST(value_test, to_string_reads_like_python) {
  EXPECT_EQ(Value().to_string(), "None");
  EXPECT_EQ(Value(true).to_string(), "True");
  EXPECT_EQ(Value(false).to_string(), "False");
  EXPECT_EQ(Value(-42).to_string(), "-42");
  EXPECT_EQ(Value(1.5).to_string(), "1.5");
  EXPECT_EQ(Value(2.0).to_string(), "2.0");
  EXPECT_EQ(Value(0.1).to_string(), "0.1");
  EXPECT_EQ(Value(1e100).to_string(), "1e+100");
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()).to_string(), "inf");
  EXPECT_EQ(Value(std::nan("")).to_string(), "nan");
  EXPECT_EQ(Value("it's\n\x01").to_string(), "'it\\'s\\n\\x01'");
  EXPECT_EQ(Value("grüße").to_string(), "'grüße'");
  EXPECT_EQ(Value::bytes("a\0\xff", 3).to_string(), "b'a\\x00\\xff'");
  EXPECT_EQ(Value::list({1, "a", Value()}).to_string(), "[1, 'a', None]");
  EXPECT_EQ(Value::map({{"b", Value::list({})}, {"a", 1}}).to_string(), "{'a': 1, 'b': []}");
  std::ostringstream out;
  out << Value::list({Value::map({})});
  EXPECT_EQ(out.str(), "[{}]");
}

TEST(value_test, big_values_copy_and_compare) {
  Value::List items;
  for (int i = 0; i < 100000; ++i) items.emplace_back(i);
  Value big(std::move(items));
  Value copy = big;
  EXPECT_EQ(copy, big);
  copy.as_list().back() = Value(-1);
  EXPECT_NE(copy, big);
}
