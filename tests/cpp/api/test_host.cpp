// test_host.cpp: pools in a host that runs Python in its own main interpreter meanwhile.
#include <Python.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api_test.h"

using pergil::Value;

namespace {

// Holds the main interpreter's GIL on this thread for the guard's lifetime.
class MainGil {
 public:
  MainGil() : state_(PyGILState_Ensure()) {}
  ~MainGil() { PyGILState_Release(state_); }
  MainGil(const MainGil&) = delete;
  MainGil& operator=(const MainGil&) = delete;

 private:
  PyGILState_STATE state_;
};

// Evaluates `expression` in the main interpreter's __main__ and returns its repr.
std::string main_eval(const char* expression) {
  MainGil gil;
  PyObject* globals = PyModule_GetDict(PyImport_AddModule("__main__"));  // borrowed
  PyObject* value = PyRun_String(expression, Py_eval_input, globals, globals);
  if (value == nullptr) {
    PyErr_Print();
    return "<error>";
  }
  PyObject* repr = PyObject_Repr(value);
  std::string text = PyUnicode_AsUTF8(repr);
  Py_DECREF(repr);
  Py_DECREF(value);
  return text;
}

class HostTest : public ::testing::TestWithParam<size_t> {
 protected:
  pergil::PoolOptions options() const { return api_test::options(GetParam()); }
};

}  // namespace

TEST(host_runtime_test, does_not_own_the_hosts_python) {
  EXPECT_FALSE(api_test::runtime().owns_python());
}

TEST_P(HostTest, pool_destroyed_while_the_host_runs_python_in_main) {
  for (int round = 0; round < 5; ++round) {
    std::atomic<bool> stop{false};
    std::atomic<int> host_runs{0};
    std::thread host([&] {
      while (!stop) {
        MainGil gil;
        PyRun_SimpleString("host_total = sum(i * i for i in range(20000))");
        ++host_runs;
      }
    });
    {
      pergil::Pool pool(api_test::runtime(), options());
      std::vector<std::future<Value>> pending;
      for (int i = 0; i < 50; ++i) pending.push_back(pool.submit("api_helpers:square", {i}));
      std::vector<Value> inputs(20, Value(3));
      for (const Value& v : pool.map("api_helpers:square", inputs)) EXPECT_EQ(v, Value(9));
      for (int i = 0; i < 50; ++i) EXPECT_EQ(pending[i].get(), Value(i * i));
      for (int i = 0; i < 20; ++i) pool.submit("api_helpers:sleep_then", {0.001, i});
    }  // destroyed (waiting for the queued calls) while the host thread runs Python in main
    int after_destroy = host_runs.load();
    while (host_runs.load() < after_destroy + 3) std::this_thread::yield();
    stop = true;
    host.join();
    EXPECT_EQ(main_eval("host_total"), "2666466670000");
    EXPECT_EQ(main_eval("[x * 2 for x in range(3)]"), "[0, 2, 4]");  // main still works after
  }
}

TEST_P(HostTest, caller_may_hold_the_main_gil) {
  for (int round = 0; round < 3; ++round) {
    api_test::Gate gate;
    MainGil gil;  // held by this thread while the pool is made, used and destroyed
    pergil::Pool pool(api_test::runtime(), options());
    // The calls wait for a gate that another host thread opens from Python in main, so it
    // needs the main GIL: map must release it while it waits, or this deadlocks.
    std::thread opener([&] {
      MainGil its_gil;
      PyRun_SimpleString(("open(r'" + gate.path() + "', 'w').close()").c_str());
    });
    std::vector<Value> inputs;
    for (size_t i = 0; i < GetParam() * 2; ++i)
      inputs.push_back(Value::list({gate.path(), static_cast<int>(i)}));
    std::vector<Value> out = pool.map("api_helpers:gated", inputs);
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], Value(static_cast<int>(i)));
    Py_BEGIN_ALLOW_THREADS;
    opener.join();
    Py_END_ALLOW_THREADS;
  }
}

TEST_P(HostTest, workers_start_from_mains_sys_path) {
  {
    MainGil gil;
    std::string code =
        std::string("import sys\nsys.path.insert(0, r'") + PERGIL_TEST_PYTHON_DIR + "')\n";
    ASSERT_EQ(PyRun_SimpleString(code.c_str()), 0);
  }
  pergil::PoolOptions o = options();
  o.sys_path.clear();  // api_helpers is found through main's sys.path alone
  pergil::Pool pool(api_test::runtime(), o);
  EXPECT_EQ(pool.submit("api_helpers:square", {6}).get(), Value(36));
  MainGil gil;
  PyRun_SimpleString("import sys\nsys.path.pop(0)\n");
}

INSTANTIATE_TEST_SUITE_P(Workers, HostTest, ::testing::Values(1, 2, 4));
