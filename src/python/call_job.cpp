// call_job.cpp: running a pickled call through pergil._worker.run and queueing its completion.
#include "call_job.h"

#include <chrono>

#include "../engine/gil.h"
#include "core_module.h"

namespace pergil::python {

using detail::Buffer;
using detail::Ref;

CompletionQueue::CompletionQueue()
    : reclaims_(std::make_shared<detail::ReclaimQueue>([this] { notify(); })) {}

void CompletionQueue::push(Completion completion) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_.push_back(std::move(completion));
  }
  ready_.notify_one();
}

void CompletionQueue::notify() {
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.notify_all();
}

bool CompletionQueue::wait(std::vector<Completion>* out, double timeout_seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto ready = [&] { return !done_.empty() || closed_ || reclaims_->has_pending(); };
  if (timeout_seconds < 0)
    ready_.wait(lock, ready);
  else
    ready_.wait_for(lock, std::chrono::duration<double>(timeout_seconds), ready);
  while (!done_.empty()) {
    out->push_back(std::move(done_.front()));
    done_.pop_front();
  }
  return !(closed_ && out->empty());
}

void CompletionQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

std::string describe_raised_exception() {
  PyObject* exc = PyErr_GetRaisedException();
  std::string text = "unknown error";
  if (exc != nullptr) {
    Ref str = Ref::steal(PyObject_Str(exc));
    text = Py_TYPE(exc)->tp_name;
    const char* message = str ? PyUnicode_AsUTF8(str.get()) : nullptr;
    if (message != nullptr && *message) text += std::string(": ") + message;
    Py_DECREF(exc);
  }
  PyErr_Clear();
  return text;
}

namespace {

int worker_module_key;
int run_function_key;
int core_module_key;

// Turns a stream or buffer object made by the worker's pickler into a Buffer.
bool take(detail::WorkerContext& worker, PyObject* obj, Buffer* out) {
  return detail::ReclaimQueue::take(worker.reclaims(), obj, out);
}

PyObject* as_python(PyTypeObject* shared_buffer_type, const Buffer& buffer, bool small_as_bytes) {
  if (small_as_bytes && buffer.size < detail::kLoanThreshold)
    return PyBytes_FromStringAndSize(buffer.data, static_cast<Py_ssize_t>(buffer.size));
  return wrap_buffer(shared_buffer_type, buffer);
}

PyTypeObject* worker_shared_buffer_type(detail::WorkerContext& worker) {
  Ref& core = worker.cached(&core_module_key);
  if (!core) core = Ref::steal(PyImport_ImportModule("pergil._core"));
  return core ? module_state(core.get())->shared_buffer_type : nullptr;
}

// Fills `completion` from the (ok, stream, buffers) tuple returned by pergil._worker.run.
bool collect_result(detail::WorkerContext& worker, PyObject* result, Completion* completion) {
  PyObject *ok, *stream, *buffers;
  if (!PyArg_ParseTuple(result, "OOO!", &ok, &stream, &PyList_Type, &buffers)) return false;
  completion->status = PyObject_IsTrue(ok) ? kOk : kRaised;
  if (!take(worker, stream, &completion->payload.stream)) return false;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(buffers); ++i) {
    Buffer buffer;
    if (!take(worker, PyList_GET_ITEM(buffers, i), &buffer)) return false;
    completion->payload.buffers.push_back(std::move(buffer));
  }
  return true;
}

}  // namespace

PyObject* worker_module(detail::WorkerContext& worker) {
  Ref& module = worker.cached(&worker_module_key);
  if (!module) module = Ref::steal(PyImport_ImportModule("pergil._worker"));
  return module.get();
}

namespace {

// pergil._worker.run of this worker, looked up once per interpreter.
PyObject* run_function(detail::WorkerContext& worker) {
  Ref& run = worker.cached(&run_function_key);
  if (!run) {
    PyObject* module = worker_module(worker);
    if (module != nullptr) run = Ref::steal(PyObject_GetAttrString(module, "run"));
  }
  return run.get();
}

}  // namespace

void PickledCallJob::run(detail::WorkerContext& worker) {
  Completion completion;
  completion.id = id();
  PyObject* run = run_function(worker);
  PyTypeObject* buffer_type = run ? worker_shared_buffer_type(worker) : nullptr;
  Ref result;
  if (buffer_type != nullptr) {
    Ref stream = Ref::steal(as_python(buffer_type, call_.stream, /*small_as_bytes=*/true));
    Ref buffers = Ref::steal(PyList_New(0));
    for (const Buffer& b : call_.buffers) {
      Ref item = Ref::steal(wrap_buffer(buffer_type, b));
      if (!item || PyList_Append(buffers.get(), item.get()) != 0) break;
    }
    if (stream && buffers && !PyErr_Occurred())
      result = Ref::steal(PyObject_CallFunctionObjArgs(run, stream.get(), buffers.get(), nullptr));
  }
  call_ = Payload{};  // the worker's own views keep whatever argument memory they still use
  if (result && collect_result(worker, result.get(), &completion)) {
    result.reset();  // drops the worker's own references to the result's buffers
    for (const Buffer& buffer : completion.payload.buffers)
      if (buffer.loan != nullptr) detail::mark_if_movable(buffer.loan);
    return finish(std::move(completion));
  }
  result.reset();
  bool interrupted = PyErr_Occurred() && PyErr_ExceptionMatches(worker.interrupt_type());
  completion.payload = Payload{};
  if (interrupted) {
    PyErr_Clear();
    completion.status = stop_reason() == detail::StopReason::kTimedOut ? kTimedOut : kCancelled;
  } else {
    completion.status = kFailed;
    completion.message = PyErr_Occurred() ? describe_raised_exception() : "worker failed";
  }
  finish(std::move(completion));
}

void PickledCallJob::discard(detail::StopReason why, const std::string& message) noexcept {
  Completion completion;
  completion.id = id();
  switch (why) {
    case detail::StopReason::kBroken:
      completion.status = kBroken;
      break;
    case detail::StopReason::kShutdown:
      completion.status = kShutdown;
      break;
    case detail::StopReason::kTimedOut:
      completion.status = kTimedOut;
      break;
    default:
      completion.status = kCancelled;
      break;
  }
  completion.message = message;
  try {
    finish(std::move(completion));
  } catch (...) {
    // Only allocation can fail here; the caller's future is then completed by shutdown.
  }
}

void PickledCallJob::finish(Completion completion) {
  call_ = Payload{};
  completions_->push(std::move(completion));
}

}  // namespace pergil::python
