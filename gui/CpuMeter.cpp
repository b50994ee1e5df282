// CpuMeter.cpp: getrusage(RUSAGE_SELF) user + system time over wall time.
#include "CpuMeter.h"

#include <sys/resource.h>

namespace {
double processCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}
}  // namespace

CpuMeter::CpuMeter() : cpuSeconds_(processCpuSeconds()), wall_(std::chrono::steady_clock::now()) {}

double CpuMeter::sample() {
  double cpu = processCpuSeconds();
  auto now = std::chrono::steady_clock::now();
  double wall = std::chrono::duration<double>(now - wall_).count();
  double percent = wall > 0 ? 100.0 * (cpu - cpuSeconds_) / wall : 0.0;
  cpuSeconds_ = cpu;
  wall_ = now;
  return percent;
}
