// host_main.cpp: a host program that starts and ends Python itself, around pergil's Runtime.
// Without arguments it runs the GoogleTest cases of test_host.cpp. With one of these it runs a
// life-cycle scenario and exits 0 if pergil ended its pools in time:
//   --finalize-with-live-pool  the host finalizes Python while a pool still runs calls
//   --runtime-ends-with-live-pool  the Runtime (owning Python) ends while a pool still lives
#include <Python.h>
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <memory>

#include "api_test.h"

namespace {

pergil::Runtime* the_runtime = nullptr;

struct LivePool {
  std::unique_ptr<pergil::Pool> pool;
  std::vector<std::future<pergil::Value>> calls;
};

// A pool whose workers spin in Python forever, with more calls queued behind them.
LivePool busy_pool(pergil::Runtime& runtime) {
  LivePool live;
  live.pool = std::make_unique<pergil::Pool>(runtime, api_test::options(2));
  for (int i = 0; i < 2; ++i) live.calls.push_back(live.pool->submit("api_helpers:spin_forever"));
  for (int i = 0; i < 3; ++i) live.calls.push_back(live.pool->submit("api_helpers:square", {i}));
  return live;
}

// Every call of the pool completed (a value or CancelledError) and the pool accepts nothing.
bool ended_cleanly(LivePool& live) {
  for (auto& call : live.calls) {
    if (call.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    try {
      call.get();
    } catch (const pergil::CancelledError&) {
    }
  }
  try {
    live.pool->submit("api_helpers:square", {1});
    return false;
  } catch (const pergil::Error&) {
    return true;
  }
}

int finalize_with_live_pool() {
  Py_InitializeEx(0);
  pergil::Runtime runtime;
  PyThreadState* main_state = PyEval_SaveThread();
  LivePool live = busy_pool(runtime);
  PyEval_RestoreThread(main_state);
  // pergil's atexit hook ends the workers before Python checks for live sub-interpreters.
  if (Py_FinalizeEx() != 0) return 2;
  bool ok = ended_cleanly(live);
  live.pool.reset();  // after Python ended: must touch nothing of it
  std::cout << (ok ? "pool ended before Py_FinalizeEx\n" : "calls left incomplete\n");
  return ok ? 0 : 1;
}

int runtime_ends_with_live_pool() {
  LivePool live;
  {
    pergil::Runtime runtime;  // starts Python, and so finalizes it
    live = busy_pool(runtime);
  }
  bool ok = ended_cleanly(live);
  live.pool.reset();
  std::cout << (ok ? "pool ended by ~Runtime\n" : "calls left incomplete\n");
  return ok ? 0 : 1;
}

}  // namespace

pergil::Runtime& api_test::runtime() { return *the_runtime; }

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "--finalize-with-live-pool") == 0)
    return finalize_with_live_pool();
  if (argc > 1 && std::strcmp(argv[1], "--runtime-ends-with-live-pool") == 0)
    return runtime_ends_with_live_pool();

  Py_InitializeEx(0);  // the host starts Python and holds the GIL
  int rc;
  {
    pergil::Runtime runtime;  // joins the host's Python
    the_runtime = &runtime;
    PyThreadState* main_state = PyEval_SaveThread();  // tests take the GIL when they need it
    rc = RUN_ALL_TESTS();
    PyEval_RestoreThread(main_state);
    the_runtime = nullptr;
  }
  if (Py_FinalizeEx() != 0 && rc == 0) rc = 1;
  return rc;
}
