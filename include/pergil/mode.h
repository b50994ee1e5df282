// mode.h: pergil::Mode, how a Pool runs its calls; the same four modes as `pergil run --mode`.
#pragma once

#include <optional>
#include <string_view>

#include "pergil/export.h"

namespace pergil {

// kInterpreters: each worker an OS thread with its own own-GIL sub-interpreter (pergil's engine).
// The other three run the same "module:function" in the main interpreter, through Python's
// concurrent.futures, for comparison: kThreads a ThreadPoolExecutor (one shared GIL), kSerial
// the same with one worker (one call at a time), kProcesses a ProcessPoolExecutor (spawn start
// method, worker processes started with the real Python executable, never with the host).
enum class Mode { kSerial, kThreads, kProcesses, kInterpreters };

// "serial", "threads", "processes" or "interpreters": the names `pergil run --mode` takes.
PERGIL_API const char* mode_name(Mode mode) noexcept;
// The Mode named `name` (as mode_name spells it), or nullopt.
PERGIL_API std::optional<Mode> parse_mode(std::string_view name) noexcept;

}  // namespace pergil
