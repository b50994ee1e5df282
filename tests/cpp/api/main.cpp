// main.cpp: one pergil::Runtime, which starts Python itself, for all API tests.
#include <gtest/gtest.h>

#include "api_test.h"

namespace {
pergil::Runtime* the_runtime = nullptr;
}  // namespace

pergil::Runtime& api_test::runtime() { return *the_runtime; }

TEST(runtime_test, owns_the_python_it_started) {
  EXPECT_TRUE(api_test::runtime().owns_python());
  EXPECT_EQ(pergil::Runtime::python_version().rfind("3.1", 0), 0u);
}

TEST(runtime_test, only_one_runtime_at_a_time) {
  EXPECT_THROW(pergil::Runtime second, std::logic_error);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pergil::Runtime runtime;  // every pool of the tests ends before it does
  the_runtime = &runtime;
  int rc = RUN_ALL_TESTS();
  the_runtime = nullptr;
  return rc;
}
