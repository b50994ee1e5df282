// errors.cpp: out-of-line members of pergil's exceptions (anchors their type information here).
#include "pergil/errors.h"

namespace pergil {

struct PythonError::Details {
  std::string type_name;
  std::string message;
  std::string traceback;
};

namespace {
std::string summary(const std::string& type_name, const std::string& message) {
  return message.empty() ? type_name : type_name + ": " + message;
}
}  // namespace

Error::~Error() = default;

PythonError::PythonError(std::string type_name, std::string message, std::string traceback)
    : Error(summary(type_name, message)),
      details_(std::make_shared<const Details>(
          Details{std::move(type_name), std::move(message), std::move(traceback)})) {}
PythonError::~PythonError() = default;
const std::string& PythonError::type_name() const noexcept { return details_->type_name; }
const std::string& PythonError::message() const noexcept { return details_->message; }
const std::string& PythonError::traceback() const noexcept { return details_->traceback; }

CancelledError::CancelledError(CancelReason reason, const std::string& what)
    : Error(what), reason_(reason) {}
CancelledError::~CancelledError() = default;

BrokenPoolError::~BrokenPoolError() = default;
ValueTypeError::~ValueTypeError() = default;

}  // namespace pergil
