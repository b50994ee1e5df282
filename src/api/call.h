// call.h: finding "module:function" in a worker, calling it with Values, and capturing errors.
#pragma once

#include <Python.h>

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "engine/worker.h"
#include "pergil/pool.h"
#include "pergil/value.h"

namespace pergil::detail {

// A parsed "module:function" target; the function may be a dotted path ("Class.method").
struct Target {
  std::string text;
  std::string module;
  std::string qualname;
};

// Throws std::invalid_argument unless `text` is "module:function" with both parts non-empty.
Target parse_target(std::string_view text);

// Runs target(*args) in the worker and converts the result (or returns none if
// `convert_result` is false). Never throws and leaves no Python exception set: failures come
// back as a Result holding PythonError, or CancelledError if the worker's interrupt stopped it.
// Contract: the worker's GIL is held.
Result call_target(WorkerContext& worker, const Target& target, const std::vector<Value>& args,
                   bool convert_result) noexcept;

}  // namespace pergil::detail
