// CpuMeter.h: CPU use of this process (all its threads) between two samples, in percent of one
// core.
#pragma once

#include <chrono>

class CpuMeter {
 public:
  CpuMeter();
  // Percent of one core used since the previous sample (200 = two cores busy).
  double sample();

 private:
  double cpuSeconds_;
  std::chrono::steady_clock::time_point wall_;
};
