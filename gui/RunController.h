// RunController.h: runs one Workload in a pergil::Pool on a thread of its own and reports each
// task's start, end and outcome to the GUI through queued signals only.
#pragma once

#include <pergil/pergil.h>

#include <QObject>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "Workload.h"

// What became of a task (also the colour of its Gantt bar).
enum class TaskState { kQueued, kRunning, kOk, kFailed, kInterrupted, kCancelled };

class RunController : public QObject {
  Q_OBJECT

 public:
  explicit RunController(pergil::Runtime& runtime, QObject* parent = nullptr);
  // Cancels a run still going and waits for its thread.
  ~RunController() override;

  // Starts a run; false if one is going. Returns at once: the pool starts on the run thread.
  bool start(int runId, const Workload& workload, pergil::Mode mode, int workers);
  // Asks the run to stop: queued tasks are dropped, running ones interrupted where the mode
  // can (interpreters; processes end their worker processes). Returns at once.
  void cancel();
  // cancel(), then waits until the run thread has ended (its pool shut down).
  void stopAndWait();
  bool running() const { return running_; }
  // Seconds on the run's clock (since its first submit); 0 before the tasks are submitted.
  double clock() const;

 signals:
  // Times are seconds since the run's first submit, on the steady clock.
  void taskStarted(int runId, int task, int worker, double time);
  void taskFinished(int runId, int task, int worker, double time);
  void taskDone(int runId, int task, int state, QString result, QString error, QString traceback);
  // The run could not start (bad target, module refused, pool broken): nothing ran.
  void runFailed(int runId, QString message);
  // Every task has completed (or was cancelled); wall = first submit to last completion.
  void runEnded(int runId, double wall, bool cancelled);

 private:
  void execute(int runId, Workload workload, pergil::Mode mode, int workers);
  // "" if the target resolves in the pool's workers, else the message for the window.
  QString probe(pergil::Pool& pool, const Workload& workload, pergil::Mode mode);
  // Submits every input, waits for all completions (or a cancel); returns (wall, cancelled).
  std::pair<double, bool> submitAll(int runId, pergil::Pool& pool, const Workload& workload);
  void complete(int runId, int task, const pergil::Result& r);
  double since(std::chrono::steady_clock::time_point t) const;

  pergil::Runtime& runtime_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<int64_t> origin_ns_{0};  // steady-clock time of the run's first submit
  std::atomic<int64_t> last_ns_{0};    // steady-clock time of the latest completion
  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancel_ = false;   // guarded by mutex_
  size_t remaining_ = 0;  // tasks not completed yet, guarded by mutex_
};
