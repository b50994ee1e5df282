// mode.cpp: the names of pergil::Mode, shared with `pergil run --mode`.
#include "pergil/mode.h"

namespace pergil {

const char* mode_name(Mode mode) noexcept {
  switch (mode) {
    case Mode::kSerial:
      return "serial";
    case Mode::kThreads:
      return "threads";
    case Mode::kProcesses:
      return "processes";
    case Mode::kInterpreters:
      break;
  }
  return "interpreters";
}

std::optional<Mode> parse_mode(std::string_view name) noexcept {
  for (Mode mode : {Mode::kSerial, Mode::kThreads, Mode::kProcesses, Mode::kInterpreters})
    if (name == mode_name(mode)) return mode;
  return std::nullopt;
}

}  // namespace pergil
