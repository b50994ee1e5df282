// executor_pool.cpp: pergil::Pool's comparison modes over concurrent.futures in the main
// interpreter: submitting, per-call start/end events, and completions as Results.
#include "executor_pool.h"

#include <Python.h>

#include <map>
#include <mutex>

#include "convert.h"
#include "engine/gil.h"
#include "executor_runner.h"
#include "python_access.h"

namespace pergil::detail {

// What the pool and its calls' callbacks share; may outlive the pool. Its Refs are touched only
// with the main GIL held, and are empty by the time the last owner may drop it without a GIL.
struct ExecutorShared {
  Mode mode = Mode::kThreads;
  size_t workers = 1;
  std::shared_ptr<std::function<void(const TaskEvent&)>> events;
  Ref runner;                       // the runner's namespace (a dict)
  Ref executor;                     // the concurrent.futures executor
  std::map<uint64_t, Ref> pending;  // futures not done yet, by call id
  std::atomic<bool> shutting_down{false};
  std::atomic<bool> interrupting{false};

  std::mutex lanes_mutex;
  std::map<std::pair<long long, long long>, size_t> lanes;  // (pid, thread) -> worker index

  // The worker index of the thread or process `where` = (pid, thread ident).
  size_t lane(PyObject* where) {
    long long pid = PyLong_AsLongLong(PyTuple_GetItem(where, 0));
    long long thread = mode == Mode::kProcesses ? 0 : PyLong_AsLongLong(PyTuple_GetItem(where, 1));
    PyErr_Clear();
    std::lock_guard<std::mutex> lock(lanes_mutex);
    auto found = lanes.find({pid, thread});
    if (found != lanes.end()) return found->second;
    size_t index = lanes.size() % workers;
    lanes.emplace(std::make_pair(pid, thread), index);
    return index;
  }

  // Contract: the main GIL is held; released while the host's callback runs.
  void emit(TaskEvent::Kind kind, uint64_t id, size_t worker, long long ns) {
    if (!events || !*events) return;
    TaskEvent event;
    event.kind = kind;
    event.task = id;
    event.worker = worker;
    event.time = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
    ReleasedGil released;
    (*events)(event);
  }
};

namespace {

// One submitted call: owned by the capsule its two Python callbacks are bound to.
struct CallState {
  uint64_t id;
  std::function<void(Result)> on_done;
  std::shared_ptr<ExecutorShared> shared;
};

const char* kCapsuleName = "pergil.ExecutorCall";

CallState* state_of(PyObject* capsule) {
  return static_cast<CallState*>(PyCapsule_GetPointer(capsule, kCapsuleName));
}

void delete_state(PyObject* capsule) { delete state_of(capsule); }

// The exception raised now as a PythonError, cleared. Contract: the main GIL is held.
std::exception_ptr take_python_error() {
  Ref exc = Ref::steal(PyErr_GetRaisedException());
  std::string type = exc ? type_full_name(Py_TYPE(exc.get())) : "SystemError";
  Ref str = exc ? Ref::steal(PyObject_Str(exc.get())) : Ref();
  const char* message = str ? PyUnicode_AsUTF8(str.get()) : nullptr;
  std::string text = message != nullptr ? message : "";
  PyErr_Clear();
  std::string traceback;
  Ref module = Ref::steal(PyImport_ImportModule("traceback"));
  Ref lines =
      module && exc
          ? Ref::steal(PyObject_CallMethod(module.get(), "format_exception", "O", exc.get()))
          : Ref();
  Ref empty = Ref::steal(PyUnicode_FromString(""));
  Ref joined = lines && empty ? Ref::steal(PyUnicode_Join(empty.get(), lines.get())) : Ref();
  const char* utf8 = joined ? PyUnicode_AsUTF8(joined.get()) : nullptr;
  traceback = utf8 != nullptr ? utf8 : (text.empty() ? type : type + ": " + text) + "\n";
  PyErr_Clear();
  return std::make_exception_ptr(PythonError(type, text, traceback));
}

// Whether the exception raised now (left set) is a concurrent.futures.BrokenExecutor.
bool raised_is_broken() {
  PyObject* exc = PyErr_GetRaisedException();  // the import below needs no exception set
  Ref futures = Ref::steal(PyImport_ImportModule("concurrent.futures"));
  Ref kind = futures ? Ref::steal(PyObject_GetAttrString(futures.get(), "BrokenExecutor")) : Ref();
  PyErr_Clear();
  bool broken = kind && exc != nullptr && PyObject_IsInstance(exc, kind.get()) == 1;
  PyErr_Clear();
  PyErr_SetRaisedException(exc);  // steals exc
  return broken;
}

std::string utf8_item(PyObject* tuple, Py_ssize_t i) {
  const char* text = PyUnicode_AsUTF8(PyTuple_GetItem(tuple, i));
  if (text == nullptr) PyErr_Clear();
  return text != nullptr ? text : "";
}

// The Result of the runner's tuple (ok, payload, start, end, where), emitting the events.
Result outcome_of(CallState& call, PyObject* returned) {
  ExecutorShared& shared = *call.shared;
  size_t worker = shared.lane(PyTuple_GetItem(returned, 4));
  long long start = PyLong_AsLongLong(PyTuple_GetItem(returned, 2));
  long long end = PyLong_AsLongLong(PyTuple_GetItem(returned, 3));
  PyErr_Clear();
  if (shared.mode == Mode::kProcesses)
    shared.emit(TaskEvent::Kind::kStarted, call.id, worker, start);
  shared.emit(TaskEvent::Kind::kFinished, call.id, worker, end);
  PyObject* payload = PyTuple_GetItem(returned, 1);
  if (PyObject_IsTrue(PyTuple_GetItem(returned, 0)) != 1) {
    PyErr_Clear();
    return Result::failure(std::make_exception_ptr(
        PythonError(utf8_item(payload, 0), utf8_item(payload, 1), utf8_item(payload, 2))));
  }
  Value value;
  if (!from_python(payload, &value, "result")) return Result::failure(take_python_error());
  return Result::success(std::move(value));
}

// The Result of a done concurrent.futures.Future. Contract: the main GIL is held.
Result result_of(CallState& call, PyObject* future) {
  ExecutorShared& shared = *call.shared;
  Ref cancelled = Ref::steal(PyObject_CallMethod(future, "cancelled", nullptr));
  if (cancelled && PyObject_IsTrue(cancelled.get()) == 1) {
    if (shared.shutting_down)
      return Result::failure(std::make_exception_ptr(
          CancelledError(CancelReason::kShutdown, "the call was cancelled by a shutdown")));
    return Result::failure(std::make_exception_ptr(
        CancelledError(CancelReason::kCancelled, "the call was cancelled before it ran")));
  }
  Ref returned = Ref::steal(PyObject_CallMethod(future, "result", "i", 0));
  if (returned && PyTuple_Check(returned.get()) && PyTuple_GET_SIZE(returned.get()) == 5)
    return outcome_of(call, returned.get());
  if (returned) return Result::failure(std::make_exception_ptr(Error("unexpected runner result")));
  bool is_broken = raised_is_broken();
  if (is_broken && shared.interrupting) {
    PyErr_Clear();
    return Result::failure(std::make_exception_ptr(CancelledError(
        CancelReason::kCancelled, "the call was interrupted: its worker process was ended")));
  }
  if (is_broken) {
    std::string what;
    try {
      std::rethrow_exception(take_python_error());
    } catch (const PythonError& e) {
      what = e.traceback();
    }
    return Result::failure(std::make_exception_ptr(BrokenPoolError("the pool is broken: " + what)));
  }
  return Result::failure(take_python_error());
}

// future.add_done_callback target: completes the call. Runs with the main GIL held, on the
// thread that finished or cancelled the future.
PyObject* on_future_done(PyObject* capsule, PyObject* future) {
  CallState* call = state_of(capsule);
  if (call == nullptr || !call->on_done) {
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  Result result = result_of(*call, future);
  call->shared->pending.erase(call->id);
  std::function<void(Result)> on_done = std::move(call->on_done);
  call->on_done = nullptr;
  {
    ReleasedGil released;  // the host's callback runs with no GIL held
    on_done(std::move(result));
  }
  Py_RETURN_NONE;
}

// The runner's started(ns, where) hook (threads and serial): emits kStarted live.
PyObject* on_started(PyObject* capsule, PyObject* args) {
  CallState* call = state_of(capsule);
  long long ns = 0;
  PyObject* where = nullptr;
  if (call == nullptr || !PyArg_ParseTuple(args, "LO!", &ns, &PyTuple_Type, &where)) return nullptr;
  call->shared->emit(TaskEvent::Kind::kStarted, call->id, call->shared->lane(where), ns);
  Py_RETURN_NONE;
}

PyMethodDef done_def = {"pergil_call_done", on_future_done, METH_O, nullptr};
PyMethodDef started_def = {"pergil_call_started", on_started, METH_VARARGS, nullptr};

[[noreturn]] void throw_python_error(const char* context) {
  std::exception_ptr error = take_python_error();
  try {
    std::rethrow_exception(error);
  } catch (const PythonError& e) {
    throw Error(std::string(context) + ": " + e.what());
  }
}

PyObject* string_list(const std::vector<std::string>& items) {
  PyObject* list = PyList_New(0);
  for (const std::string& item : items) {
    Ref text = Ref::steal(PyUnicode_DecodeFSDefault(item.c_str()));
    if (!text || PyList_Append(list, text.get()) != 0) {
      Py_DECREF(list);
      return nullptr;
    }
  }
  return list;
}

}  // namespace

ExecutorPool::ExecutorPool(Mode mode, size_t workers, std::vector<std::string> sys_path,
                           const std::string& initializer,
                           const std::vector<Value>& initializer_args,
                           std::shared_ptr<std::function<void(const TaskEvent&)>> events)
    : mode_(mode),
      workers_(mode == Mode::kSerial ? 1 : workers),
      sys_path_(std::move(sys_path)),
      shared_(std::make_shared<ExecutorShared>()) {
  shared_->mode = mode;
  shared_->workers = workers_;
  shared_->events = std::move(events);
  MainInterpreterAttached attached;
  Ref names = Ref::steal(PyDict_New());
  Ref source = Ref::steal(PyUnicode_FromString(kExecutorRunnerSource));
  if (!names || !source || PyDict_SetItemString(names.get(), "SOURCE", source.get()) != 0 ||
      PyDict_SetItemString(names.get(), "__builtins__", PyEval_GetBuiltins()) != 0)
    throw_python_error("pergil: cannot set up the executor");
  Ref ran =
      Ref::steal(PyRun_String(kExecutorRunnerSource, Py_file_input, names.get(), names.get()));
  if (!ran) throw_python_error("pergil: cannot set up the executor");
  Ref init = Ref::borrow(Py_None);
  if (!initializer.empty()) {
    Ref args = Ref::steal(to_python_args(initializer_args));
    Ref paths = args ? Ref::steal(string_list(sys_path_)) : Ref();
    init = paths ? Ref::steal(Py_BuildValue("(sOO)", initializer.c_str(), args.get(), paths.get()))
                 : Ref();
    if (!init) throw_python_error("pergil: cannot pass the initializer");
  }
  PyObject* make = PyDict_GetItemString(names.get(), "make_executor");  // borrowed
  Ref executor = Ref::steal(PyObject_CallFunction(make, "snO", mode_name(mode),
                                                  static_cast<Py_ssize_t>(workers_), init.get()));
  if (!executor) throw_python_error("pergil: cannot start the executor");
  shared_->runner = std::move(names);
  shared_->executor = std::move(executor);
}

ExecutorPool::~ExecutorPool() {
  if (!Py_IsInitialized()) {  // Python ended first and freed its objects: forget ours
    (void)shared_->runner.release();
    (void)shared_->executor.release();
    for (auto& entry : shared_->pending) (void)entry.second.release();
    return;
  }
  shutdown(/*wait=*/true, false, false);
  MainInterpreterAttached attached;
  shared_->pending.clear();
  shared_->executor.reset();
  shared_->runner.reset();
}

void ExecutorPool::submit(uint64_t id, const Target& target, std::vector<Value> args,
                          std::function<void(Result)> on_done) {
  MainInterpreterAttached attached;
  if (!shared_->executor) throw Error("pergil::Pool: cannot submit calls after shutdown");
  auto* call = new CallState{id, std::move(on_done), shared_};
  Ref capsule = Ref::steal(PyCapsule_New(call, kCapsuleName, delete_state));
  if (!capsule) {
    delete call;
    throw_python_error("pergil: cannot submit");
  }
  Ref started = Ref::steal(PyCFunction_New(&started_def, capsule.get()));
  Ref done = Ref::steal(PyCFunction_New(&done_def, capsule.get()));
  Ref arguments = Ref::steal(to_python_args(args));
  Ref paths = Ref::steal(string_list(sys_path_));
  PyObject* submit = PyDict_GetItemString(shared_->runner.get(), "submit");  // borrowed
  Ref future = started && done && arguments && paths
                   ? Ref::steal(PyObject_CallFunction(submit, "OssOOO", shared_->executor.get(),
                                                      mode_name(mode_), target.text.c_str(),
                                                      arguments.get(), paths.get(), started.get()))
                   : Ref();
  if (!future) {
    bool broken = raised_is_broken();
    std::exception_ptr error = take_python_error();
    call->on_done = nullptr;
    if (broken) {
      try {
        std::rethrow_exception(error);
      } catch (const PythonError& e) {
        throw BrokenPoolError(std::string("the pool is broken: ") + e.what());
      }
    }
    if (shared_->shutting_down) throw Error("pergil::Pool: cannot submit calls after shutdown");
    std::rethrow_exception(error);
  }
  shared_->pending[id] = Ref::borrow(future.get());
  Ref added = Ref::steal(PyObject_CallMethod(future.get(), "add_done_callback", "O", done.get()));
  if (!added) PyErr_Clear();  // add_done_callback does not fail for a live future
}

bool ExecutorPool::cancel(uint64_t id) {
  MainInterpreterAttached attached;
  auto found = shared_->pending.find(id);
  if (found == shared_->pending.end()) return false;
  Ref future = Ref::borrow(found->second.get());  // cancel() runs the callback, which erases it
  Ref done = Ref::steal(PyObject_CallMethod(future.get(), "cancel", nullptr));
  bool cancelled = done && PyObject_IsTrue(done.get()) == 1;
  PyErr_Clear();
  return cancelled;
}

void ExecutorPool::shutdown(bool wait, bool cancel_pending, bool interrupt_running) {
  MainInterpreterAttached attached;
  if (!shared_->executor) return;
  shared_->shutting_down = true;
  if (interrupt_running) shared_->interrupting = true;
  PyObject* stop = PyDict_GetItemString(shared_->runner.get(), "stop");  // borrowed
  // Python's shutdown(wait=True) releases the GIL while it joins its threads and processes.
  Ref done =
      Ref::steal(PyObject_CallFunction(stop, "Osiii", shared_->executor.get(), mode_name(mode_),
                                       int{wait}, int{cancel_pending}, int{interrupt_running}));
  if (!done) PyErr_Clear();
}

}  // namespace pergil::detail
