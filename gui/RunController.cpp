// RunController.cpp: the run thread: pool, probe, submits, waiting, cancelling, shutdown.
#include "RunController.h"

namespace {

constexpr uint64_t kProbeTask = 0;  // the probe is the pool's first call: tasks are ids 1..n
const char* kRefusal = "does not support loading in subinterpreters";

}  // namespace

RunController::RunController(pergil::Runtime& runtime, QObject* parent)
    : QObject(parent), runtime_(runtime) {}

RunController::~RunController() { stopAndWait(); }

bool RunController::start(int runId, const Workload& workload, pergil::Mode mode, int workers) {
  if (running_) return false;
  if (thread_.joinable()) thread_.join();  // the previous run's thread has finished its work
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_ = false;
    remaining_ = 0;
  }
  origin_ns_ = 0;
  running_ = true;
  thread_ = std::thread(&RunController::execute, this, runId, workload, mode, workers);
  return true;
}

void RunController::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancel_ = true;
  wake_.notify_all();
}

void RunController::stopAndWait() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

double RunController::since(std::chrono::steady_clock::time_point t) const {
  int64_t ns = t.time_since_epoch().count() - origin_ns_.load();
  return static_cast<double>(ns) / 1e9;
}

double RunController::clock() const {
  if (origin_ns_.load() == 0) return 0.0;
  return since(std::chrono::steady_clock::now());
}

void RunController::execute(int runId, Workload workload, pergil::Mode mode, int workers) {
  try {
    pergil::PoolOptions options;
    options.mode = mode;
    options.workers = static_cast<size_t>(workers);
    options.sys_path = workload.sysPath;
    options.on_task_event = [this, runId](const pergil::TaskEvent& e) {
      if (e.task == kProbeTask) return;
      int task = static_cast<int>(e.task - 1);
      if (e.kind == pergil::TaskEvent::Kind::kStarted)
        emit taskStarted(runId, task, static_cast<int>(e.worker), since(e.time));
      else
        emit taskFinished(runId, task, static_cast<int>(e.worker), since(e.time));
    };
    QString refused;
    std::pair<double, bool> ended{0.0, false};
    {
      pergil::Pool pool(runtime_, options);
      refused = probe(pool, workload, mode);
      if (refused.isEmpty()) ended = submitAll(runId, pool, workload);
    }  // the pool has shut down: its workers (threads, processes, interpreters) have ended
    running_ = false;
    if (refused.isEmpty())
      emit runEnded(runId, ended.first, ended.second);
    else
      emit runFailed(runId, refused);
  } catch (const std::exception& e) {
    running_ = false;
    emit runFailed(runId, QString("the run could not start: %1").arg(e.what()));
  }
}

// Resolves the target in the pool's workers first, so that a module that does not import (or
// refuses sub-interpreters) gives one clear message instead of one failure per task.
QString RunController::probe(pergil::Pool& pool, const Workload& workload, pergil::Mode mode) {
  std::future<pergil::Value> answer =
      pool.submit("pergil._gui_workloads:probe", {pergil::Value(workload.target)});
  QString reason;
  try {
    pergil::Value value = answer.get();
    if (value.is_none()) return {};
    reason = QString::fromStdString(value.as_string());
  } catch (const pergil::PythonError& e) {
    reason = QString(
                 "pergil's workload module does not load in the workers (%1); is the "
                 "pergil package installed in the Python the app uses?")
                 .arg(e.what());
  }
  QString message = QString("%1: %2").arg(QString::fromStdString(workload.target), reason);
  if (mode == pergil::Mode::kInterpreters && reason.contains(kRefusal))
    message +=
        " -- this module cannot run in a sub-interpreter (an extension module that is "
        "not isolated); the processes mode runs it";
  return message;
}

// Runs on a worker (or the cancelling) thread: reports the outcome, counts the task done.
void RunController::complete(int runId, int task, const pergil::Result& r) {
  TaskState state = TaskState::kOk;
  QString result, error, traceback;
  if (r.ok()) {
    result = valueText(r.value());
  } else {
    try {
      std::rethrow_exception(r.error());
    } catch (const pergil::PythonError& e) {
      state = TaskState::kFailed;
      error = QString::fromStdString(e.what());
      traceback = QString::fromStdString(e.traceback());
    } catch (const pergil::CancelledError& e) {
      state = TaskState::kCancelled;  // the window tells interrupted from never started
      error = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
      state = TaskState::kFailed;
      error = QString::fromStdString(e.what());
    }
  }
  last_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
  emit taskDone(runId, task, static_cast<int>(state), result, error, traceback);
  std::lock_guard<std::mutex> lock(mutex_);
  --remaining_;
  wake_.notify_all();
}

std::pair<double, bool> RunController::submitAll(int runId, pergil::Pool& pool,
                                                 const Workload& workload) {
  size_t count = workload.inputs.size();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    remaining_ = count;
  }
  auto origin = std::chrono::steady_clock::now();
  origin_ns_ = origin.time_since_epoch().count();
  last_ns_ = origin_ns_.load();
  for (size_t i = 0; i < count; ++i) {
    pool.submit(workload.target, {workload.inputs[i]},
                [this, runId, i](pergil::Result r) { complete(runId, static_cast<int>(i), r); });
  }
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait(lock, [&] { return remaining_ == 0 || cancel_; });
  bool cancelled = remaining_ != 0;
  if (cancelled) {
    lock.unlock();
    pool.shutdown(/*wait=*/true, /*cancel_pending=*/true, /*interrupt_running=*/true);
    lock.lock();
    wake_.wait(lock, [&] { return remaining_ == 0; });
  }
  return {static_cast<double>(last_ns_.load() - origin_ns_.load()) / 1e9, cancelled};
}
