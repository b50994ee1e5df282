// pool.cpp: pergil::Pool over the engine's WorkerPool, plus Result and Task.
#include "pergil/pool.h"

#include <Python.h>

#include <algorithm>
#include <thread>

#include "engine/worker_pool.h"
#include "executor_pool.h"
#include "python_access.h"
#include "registry.h"
#include "value_call_job.h"

namespace pergil {

Result Result::success(Value value) noexcept {
  Result r;
  r.value_ = std::move(value);
  return r;
}

Result Result::failure(std::exception_ptr error) noexcept {
  Result r;
  r.error_ = std::move(error);
  return r;
}

const Value& Result::value() const& {
  if (error_) std::rethrow_exception(error_);
  return value_;
}

Value Result::value() && {
  if (error_) std::rethrow_exception(error_);
  return std::move(value_);
}

std::string Result::error_message() const {
  if (!error_) return {};
  try {
    std::rethrow_exception(error_);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

bool Task::cancel() {
  if (!canceller_) return false;
  detail::GilReleasedIfHeld released;  // a call cancelled in the queue completes on this thread
  return canceller_();
}

namespace {

// sys.path of the main interpreter, as file-system-encoded strings.
std::vector<std::string> main_sys_path() {
  detail::MainInterpreterAttached attached;
  std::vector<std::string> entries;
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (path == nullptr || !PyList_Check(path)) return entries;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(path); ++i) {
    PyObject* item = PyList_GET_ITEM(path, i);
    if (!PyUnicode_Check(item)) continue;
    detail::Ref encoded = detail::Ref::steal(PyUnicode_EncodeFSDefault(item));
    if (encoded) entries.emplace_back(PyBytes_AS_STRING(encoded.get()));
    PyErr_Clear();
  }
  return entries;
}

// Imports, once in the main interpreter, the extension modules whose first import in two
// workers at once crashes CPython: _datetime readies static types without a lock (gh-136421).
// The Python executor does the same (pergil/_executor.py).
void prepare_main_interpreter() {
  detail::MainInterpreterAttached attached;
  detail::Ref datetime = detail::Ref::steal(PyImport_ImportModule("_datetime"));
  PyErr_Clear();  // a Python without _datetime has nothing to race on
}

detail::PoolOptions engine_options(PoolOptions options) {
  prepare_main_interpreter();
  detail::PoolOptions engine;
  engine.workers = options.workers != 0 ? options.workers
                                        : std::max<size_t>(1, std::thread::hardware_concurrency());
  engine.sys_path = std::move(options.sys_path);
  for (std::string& entry : main_sys_path()) engine.sys_path.push_back(std::move(entry));
  if (!options.initializer.empty()) {
    auto init = std::make_shared<const detail::Initializer>(detail::Initializer{
        detail::parse_target(options.initializer), std::move(options.initializer_args)});
    engine.initialize = [init](detail::WorkerContext& worker, std::string* error) {
      return detail::run_initializer(worker, *init, error);
    };
  }
  return engine;
}

std::function<void(Result)> fulfil(std::shared_ptr<std::promise<Value>> promise) {
  return [promise = std::move(promise)](Result result) {
    if (result.ok())
      promise->set_value(std::move(result).value());
    else
      promise->set_exception(result.error());
  };
}

}  // namespace

Pool::Pool(Runtime& /*runtime: proves Python is running*/, PoolOptions options)
    : events_(std::make_shared<std::function<void(const TaskEvent&)>>(
          std::move(options.on_task_event))),
      next_id_(std::make_shared<std::atomic<uint64_t>>(0)) {
  if (!Py_IsInitialized()) throw Error("pergil: Python is not running");
  if (options.mode == Mode::kInterpreters) {
    pool_ = std::make_shared<detail::WorkerPool>(engine_options(std::move(options)));
    detail::register_pool(pool_);
    return;
  }
  if (!options.initializer.empty()) detail::parse_target(options.initializer);  // or throws
  size_t workers = options.workers != 0 ? options.workers
                                        : std::max<size_t>(1, std::thread::hardware_concurrency());
  executor_mode_ = options.mode;
  detail::GilReleasedIfHeld released;  // the executor attaches to the main interpreter itself
  executor_ = std::make_shared<detail::ExecutorPool>(
      options.mode, workers, std::move(options.sys_path), options.initializer,
      options.initializer_args, events_);
}

Pool::~Pool() { release(); }

Pool::Pool(Pool&& other) noexcept
    : pool_(std::move(other.pool_)),
      executor_(std::move(other.executor_)),
      events_(std::move(other.events_)),
      next_id_(std::move(other.next_id_)),
      executor_mode_(other.executor_mode_) {}

Pool& Pool::operator=(Pool&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    executor_ = std::move(other.executor_);
    events_ = std::move(other.events_);
    next_id_ = std::move(other.next_id_);
    executor_mode_ = other.executor_mode_;
  }
  return *this;
}

void Pool::release() noexcept {
  if (executor_) {
    detail::GilReleasedIfHeld released;
    executor_.reset();  // shuts down (waits) and drops its Python objects
  }
  if (!pool_) return;
  detail::GilReleasedIfHeld released;
  pool_->shutdown(/*wait=*/true, /*cancel_pending=*/false, /*interrupt_running=*/false);
  detail::unregister_pool(pool_.get());
  pool_.reset();
}

void Pool::check_usable() const {
  if (!pool_ && !executor_) throw std::logic_error("pergil::Pool used after it was moved from");
}

size_t Pool::size() const {
  check_usable();
  return pool_ ? pool_->size() : executor_->size();
}

Mode Pool::mode() const {
  check_usable();
  return pool_ ? Mode::kInterpreters : executor_mode_;
}

Task Pool::enqueue(std::string_view target, std::vector<Value> args,
                   std::function<void(Result)> on_done) {
  check_usable();
  detail::Target parsed = detail::parse_target(target);
  uint64_t id = next_id_->fetch_add(1);
  if (executor_) {
    detail::GilReleasedIfHeld released;
    executor_->submit(id, parsed, std::move(args), std::move(on_done));
    std::weak_ptr<detail::ExecutorPool> weak = executor_;
    return Task(id, [weak, id] {
      auto executor = weak.lock();
      return executor && executor->cancel(id);
    });
  }
  detail::WorkerPool& pool = *pool_;
  auto job = std::make_shared<detail::ValueCallJob>(std::move(parsed), std::move(args),
                                                    std::move(on_done), id, events_);
  try {
    pool.submit(job);
  } catch (const std::runtime_error&) {
    if (pool.broken()) throw BrokenPoolError("the pool is broken: " + pool.broken_reason());
    throw Error("pergil::Pool: cannot submit calls after shutdown");
  }
  std::weak_ptr<detail::WorkerPool> weak_pool = pool_;
  std::weak_ptr<detail::Job> weak_job = job;
  return Task(id, [weak_pool, weak_job] {
    auto pool = weak_pool.lock();
    auto job = weak_job.lock();
    return pool && job && pool->cancel(job) != detail::CancelOutcome::kTooLate;
  });
}

std::future<Value> Pool::submit(std::string_view target, std::vector<Value> args) {
  auto promise = std::make_shared<std::promise<Value>>();
  std::future<Value> future = promise->get_future();
  enqueue(target, std::move(args), fulfil(std::move(promise)));
  return future;
}

Task Pool::submit(std::string_view target, std::vector<Value> args,
                  std::function<void(Result)> on_done) {
  if (!on_done) throw std::invalid_argument("pergil::Pool::submit: empty completion callback");
  return enqueue(target, std::move(args), std::move(on_done));
}

std::vector<Value> Pool::map(std::string_view target, std::vector<Value> inputs) {
  std::vector<Task> tasks;
  std::vector<std::future<Value>> futures;
  tasks.reserve(inputs.size());
  futures.reserve(inputs.size());
  detail::GilReleasedIfHeld released;
  // Cancels the calls from `first` on and waits until each has completed one way or another.
  auto abandon = [&](size_t first) {
    for (size_t i = first; i < tasks.size(); ++i) tasks[i].cancel();
    for (size_t i = first; i < tasks.size(); ++i) futures[i].wait();
  };
  try {
    for (Value& input : inputs) {
      auto promise = std::make_shared<std::promise<Value>>();
      std::future<Value> future = promise->get_future();
      std::vector<Value> args;
      args.push_back(std::move(input));
      tasks.push_back(enqueue(target, std::move(args), fulfil(std::move(promise))));
      futures.push_back(std::move(future));
    }
  } catch (...) {
    abandon(0);
    throw;
  }
  std::vector<Value> results;
  results.reserve(futures.size());
  for (size_t i = 0; i < futures.size(); ++i) {
    try {
      results.push_back(futures[i].get());
    } catch (...) {
      abandon(i + 1);
      throw;
    }
  }
  return results;
}

void Pool::shutdown(bool wait, bool cancel_pending, bool interrupt_running) {
  check_usable();
  detail::GilReleasedIfHeld released;  // queued calls cancelled here complete on this thread
  if (executor_)
    executor_->shutdown(wait, cancel_pending, interrupt_running);
  else
    pool_->shutdown(wait, cancel_pending, interrupt_running);
}

}  // namespace pergil
