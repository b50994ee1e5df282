// api_test.h: what the C++ API tests share: the Runtime, pool options, a gate for workers.
#pragma once

#include <pergil/pergil.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace api_test {

// The Runtime of the test program (made in main, alive for every test).
pergil::Runtime& runtime();

// Options of a pool whose workers can import api_helpers.py.
inline pergil::PoolOptions options(size_t workers) {
  pergil::PoolOptions o;
  o.workers = workers;
  o.sys_path = {PERGIL_TEST_PYTHON_DIR};
  return o;
}

// A file that workers blocked in api_helpers.wait_for_file wait for: open() releases them.
// The test decides when calls finish, so queue states are exact instead of timed.
class Gate {
 public:
  Gate() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("pergil-api-gate-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::remove(path_);
  }
  ~Gate() {
    std::filesystem::remove(path_);
    for (const auto& marker : markers()) std::filesystem::remove(marker);
  }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  std::string path() const { return path_.string(); }
  void open() { std::ofstream(path_) << "open"; }
  // Waits until `n` calls of api_helpers.arrive_and_wait wait at this gate (each is then
  // running in its own worker). Gives up after a minute: the test's checks then fail.
  void wait_for_arrivals(size_t n) const {
    for (int i = 0; i < 60000 && markers().size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

 private:
  std::vector<std::filesystem::path> markers() const {
    std::vector<std::filesystem::path> found;
    std::string prefix = path_.filename().string() + ".";
    for (const auto& entry : std::filesystem::directory_iterator(path_.parent_path()))
      if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
    return found;
  }

  std::filesystem::path path_;
};

}  // namespace api_test
