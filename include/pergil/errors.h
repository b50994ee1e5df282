// errors.h: the exceptions a host receives from pergil (Python errors, cancellation, broken pools).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "pergil/export.h"

namespace pergil {

// Base of every exception that pergil itself throws. Thrown as such when a call is submitted to
// a pool that is shut down.
class PERGIL_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;
};

// A Python exception raised by the called function (or while finding it, converting its
// arguments or its result), carried over as plain text.
// what() is "type_name: message"; traceback() is the text Python's traceback module prints.
class PERGIL_API PythonError : public Error {
 public:
  PythonError(std::string type_name, std::string message, std::string traceback);
  ~PythonError() override;

  // "ValueError" for builtins, "package.module.QualName" otherwise.
  const std::string& type_name() const noexcept;
  // str() of the exception.
  const std::string& message() const noexcept;
  // "Traceback (most recent call last): ...", ending with the "type_name: message" line.
  const std::string& traceback() const noexcept;

 private:
  struct Details;
  std::shared_ptr<const Details> details_;  // shared: copying an exception must not throw
};

enum class CancelReason { kCancelled, kShutdown };

// The call did not complete: cancelled (Task::cancel, Pool::shutdown with interrupt_running, or
// a failed Pool::map abandoning the rest) or discarded by Pool::shutdown(cancel_pending).
class PERGIL_API CancelledError : public Error {
 public:
  CancelledError(CancelReason reason, const std::string& what);
  ~CancelledError() override;
  CancelReason reason() const noexcept { return reason_; }

 private:
  CancelReason reason_;
};

// The pool cannot run calls: a worker interpreter could not be created or the initializer
// failed in a worker. what() says why (with the initializer's traceback).
class PERGIL_API BrokenPoolError : public Error {
 public:
  using Error::Error;
  ~BrokenPoolError() override;
};

// A pergil::Value was read as a type it does not hold (for example as_int() on a string).
class PERGIL_API ValueTypeError : public Error {
 public:
  using Error::Error;
  ~ValueTypeError() override;
};

}  // namespace pergil
