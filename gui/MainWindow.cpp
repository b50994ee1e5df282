// MainWindow.cpp: layout, starting runs, and turning the controller's queued signals into views.
#include "MainWindow.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

#include "CompareChart.h"
#include "GanttView.h"
#include "WorkloadPanel.h"

namespace {

const QList<pergil::Mode> kAllModes = {pergil::Mode::kSerial, pergil::Mode::kThreads,
                                       pergil::Mode::kProcesses, pergil::Mode::kInterpreters};

const char* stateName(TaskState state) {
  switch (state) {
    case TaskState::kQueued:
      return "queued";
    case TaskState::kRunning:
      return "running";
    case TaskState::kOk:
      return "ok";
    case TaskState::kFailed:
      return "failed";
    case TaskState::kInterrupted:
      return "interrupted";
    case TaskState::kCancelled:
      break;
  }
  return "cancelled";
}

}  // namespace

MainWindow::MainWindow(pergil::Runtime& runtime, const QString& pythonNote, QWidget* parent)
    : QMainWindow(parent), controller_(new RunController(runtime, this)) {
  setWindowTitle("pergil: the same Python function, four ways");
  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);
  layout->addWidget(controls());
  message_ = new QLabel;
  message_->setObjectName("message");
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(message_);
  gantt_ = new GanttView;
  layout->addWidget(gantt_, 2);
  auto* progressRow = new QHBoxLayout;
  progress_ = new QProgressBar;
  progress_->setObjectName("progress");
  stats_ = new QLabel("idle");
  stats_->setObjectName("stats");
  stats_->setMinimumWidth(420);
  progressRow->addWidget(progress_);
  progressRow->addWidget(stats_);
  layout->addLayout(progressRow);
  layout->addWidget(results(), 3);
  setCentralWidget(central);
  statusBar()->showMessage(pythonNote);
  resize(1280, 900);

  auto queued = Qt::QueuedConnection;  // the controller emits from its run and worker threads
  connect(controller_, &RunController::taskStarted, this, &MainWindow::onTaskStarted, queued);
  connect(controller_, &RunController::taskFinished, this, &MainWindow::onTaskFinished, queued);
  connect(controller_, &RunController::taskDone, this, &MainWindow::onTaskDone, queued);
  connect(controller_, &RunController::runFailed, this, &MainWindow::onRunFailed, queued);
  connect(controller_, &RunController::runEnded, this, &MainWindow::onRunEnded, queued);
  connect(gantt_, &GanttView::taskClicked, this, &MainWindow::showTask);
  connect(&ticker_, &QTimer::timeout, this, &MainWindow::tick);
  ticker_.start(100);
}

MainWindow::~MainWindow() { controller_->stopAndWait(); }

QWidget* MainWindow::controls() {
  auto* box = new QWidget;
  auto* layout = new QHBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  workload_ = new WorkloadPanel;
  workload_->setMaximumHeight(190);
  layout->addWidget(workload_, 3);
  auto* side = new QGroupBox("Run");
  side->setMaximumHeight(190);
  auto* grid = new QVBoxLayout(side);
  auto* row = new QHBoxLayout;
  workers_ = new QSpinBox;
  workers_->setObjectName("workers");
  int cpus = std::max(1, QThread::idealThreadCount());
  workers_->setRange(1, cpus);
  workers_->setValue(cpus);
  mode_ = new QComboBox;
  mode_->setObjectName("mode");
  for (pergil::Mode m : kAllModes) mode_->addItem(pergil::mode_name(m), static_cast<int>(m));
  mode_->setCurrentIndex(3);
  row->addWidget(new QLabel("workers"));
  row->addWidget(workers_);
  row->addWidget(new QLabel("mode"));
  row->addWidget(mode_);
  grid->addLayout(row);
  auto* buttons = new QHBoxLayout;
  run_ = new QPushButton("Run");
  run_->setObjectName("run");
  runAll_ = new QPushButton("Run all four modes");
  runAll_->setObjectName("runAll");
  cancel_ = new QPushButton("Cancel");
  cancel_->setObjectName("cancel");
  cancel_->setEnabled(false);
  buttons->addWidget(run_);
  buttons->addWidget(runAll_);
  buttons->addWidget(cancel_);
  grid->addLayout(buttons);
  layout->addWidget(side, 2);
  connect(run_, &QPushButton::clicked, this, &MainWindow::runOne);
  connect(runAll_, &QPushButton::clicked, this, &MainWindow::runAll);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    queue_.clear();
    controller_->cancel();
  });
  return box;
}

QWidget* MainWindow::results() {
  auto* split = new QSplitter(Qt::Horizontal);
  auto* left = new QSplitter(Qt::Vertical);
  chart_ = new CompareChart;
  runs_ = new RunsTable;
  left->addWidget(chart_);
  left->addWidget(runs_);
  auto* right = new QSplitter(Qt::Vertical);
  tasks_ = new QTableWidget(0, 5);
  tasks_->setObjectName("tasks");
  tasks_->setHorizontalHeaderLabels({"task", "input", "worker", "state", "seconds"});
  tasks_->horizontalHeader()->setStretchLastSection(true);
  tasks_->verticalHeader()->hide();
  tasks_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  tasks_->setSelectionBehavior(QAbstractItemView::SelectRows);
  details_ = new QPlainTextEdit;
  details_->setObjectName("taskDetails");
  details_->setReadOnly(true);
  details_->setPlaceholderText("click a task (a row, or a bar of the Gantt view)");
  right->addWidget(tasks_);
  right->addWidget(details_);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  connect(tasks_, &QTableWidget::cellClicked, this, [this](int row, int) { showTask(row); });
  return split;
}

bool MainWindow::busy() const { return controller_->running() || !queue_.isEmpty(); }

QString MainWindow::message() const { return message_->text(); }

void MainWindow::showMessage(const QString& text, bool error) {
  message_->setStyleSheet(error ? "color: #b00020; font-weight: bold" : "color: #1b5e20");
  message_->setText(text);
}

void MainWindow::runOne() {
  if (busy()) return;
  queue_ = {static_cast<pergil::Mode>(mode_->currentData().toInt())};
  startNext();
}

void MainWindow::runAll() {
  if (busy()) return;
  queue_ = kAllModes;
  startNext();
}

void MainWindow::startNext() {
  if (queue_.isEmpty()) {
    run_->setEnabled(true);
    runAll_->setEnabled(true);
    cancel_->setEnabled(false);
    emit runsIdle();
    return;
  }
  QString error;
  Workload workload;
  if (!workload_->build(&workload, &error)) {
    queue_.clear();
    showMessage(error, true);
    startNext();
    return;
  }
  current_ = workload;
  currentMode_ = queue_.takeFirst();
  currentWorkers_ = currentMode_ == pergil::Mode::kSerial ? 1 : workers_->value();
  ++runId_;
  done_ = 0;
  taskInfo_.clear();
  tasks_->setRowCount(0);
  tasks_->setRowCount(static_cast<int>(workload.inputs.size()));
  for (const QString& label : workload.labels) {
    TaskInfo info;
    info.input = label;
    taskInfo_.append(info);
  }
  for (int i = 0; i < taskInfo_.size(); ++i) updateTaskRow(i);
  details_->clear();
  gantt_->reset(currentWorkers_, taskInfo_.size());
  progress_->setRange(0, taskInfo_.size());
  progress_->setValue(0);
  showMessage(QString("running %1 in mode %2 on %3 worker(s)...")
                  .arg(workload.name, pergil::mode_name(currentMode_))
                  .arg(currentWorkers_),
              false);
  run_->setEnabled(false);
  runAll_->setEnabled(false);
  cancel_->setEnabled(true);
  controller_->start(runId_, workload, currentMode_, currentWorkers_);
}

void MainWindow::onTaskStarted(int runId, int task, int worker, double time) {
  if (runId != runId_ || task >= taskInfo_.size()) return;
  TaskInfo& info = taskInfo_[task];
  info.started = true;
  info.worker = worker;
  info.start = time;
  if (info.state == TaskState::kQueued) info.state = TaskState::kRunning;
  gantt_->taskStarted(task, worker, time);
  updateTaskRow(task);
}

void MainWindow::onTaskFinished(int runId, int task, int worker, double time) {
  if (runId != runId_ || task >= taskInfo_.size()) return;
  taskInfo_[task].end = time;
  gantt_->taskFinished(task, worker, time);
}

void MainWindow::onTaskDone(int runId, int task, int state, QString result, QString error,
                            QString traceback) {
  if (runId != runId_ || task >= taskInfo_.size()) return;
  TaskInfo& info = taskInfo_[task];
  info.state = static_cast<TaskState>(state);
  if (info.state == TaskState::kCancelled && info.started) info.state = TaskState::kInterrupted;
  info.result = result;
  info.error = error;
  info.traceback = traceback;
  gantt_->setState(task, info.state);
  progress_->setValue(++done_);
  updateTaskRow(task);
}

void MainWindow::onRunFailed(int runId, QString text) {
  if (runId != runId_) return;
  queue_.clear();
  showMessage(text, true);
  stats_->setText("nothing ran");
  startNext();
}

void MainWindow::onRunEnded(int runId, double wall, bool cancelled) {
  if (runId != runId_) return;
  RunSummary run;
  run.workload = current_.name;
  run.mode = pergil::mode_name(currentMode_);
  run.workers = currentWorkers_;
  run.wall = wall;
  run.tasks = taskInfo_.size();
  run.cancelled = cancelled;
  QString firstError;
  for (const TaskInfo& info : taskInfo_) {
    run.failures += info.state == TaskState::kFailed;
    run.interrupted += info.state == TaskState::kInterrupted;
    if (info.state == TaskState::kFailed && firstError.isEmpty()) firstError = info.error;
  }
  const RunSummary* serial = runs_->latestSerial(run.workload);
  if (run.mode == "serial" && !cancelled)
    run.speedup = 1.0;
  else if (serial != nullptr && wall > 0)
    run.speedup = serial->wall / wall;
  runs_->addRun(run);
  if (!cancelled) chart_->setRun(run.mode, wall, run.speedup);
  gantt_->fitToBars();
  QString text = QString("%1 in mode %2: %3 s").arg(run.workload, run.mode).arg(wall, 0, 'f', 3);
  if (cancelled) {
    QStringList ids;
    for (int i = 0; i < taskInfo_.size(); ++i)
      if (taskInfo_[i].state == TaskState::kInterrupted) ids << QString::number(i);
    text += QString(" -- cancelled; interrupted while running: %1")
                .arg(ids.isEmpty() ? "none" : "tasks " + ids.join(", "));
  }
  if (run.failures > 0)
    text += QString(" -- %1 of %2 tasks failed, first: %3 (click a red task for its traceback)")
                .arg(run.failures)
                .arg(run.tasks)
                .arg(firstError);
  showMessage(text, run.failures > 0 || cancelled);
  tick();
  startNext();
}

void MainWindow::tick() {
  double cpu = cpu_.sample();
  if (!controller_->running()) {
    stats_->setText(QString("idle -- process CPU %1 %").arg(cpu, 0, 'f', 0));
    return;
  }
  double seconds = controller_->clock();
  gantt_->setNow(seconds);
  stats_->setText(QString("%1 / %2 tasks, %3 tasks/s, %4 s elapsed, process CPU %5 %")
                      .arg(done_)
                      .arg(taskInfo_.size())
                      .arg(seconds > 0 ? done_ / seconds : 0.0, 0, 'f', 1)
                      .arg(seconds, 0, 'f', 1)
                      .arg(cpu, 0, 'f', 0));
}

void MainWindow::updateTaskRow(int task) {
  const TaskInfo& info = taskInfo_[task];
  QString seconds =
      info.end >= 0 && info.start >= 0 ? QString::number(info.end - info.start, 'f', 3) : QString();
  QStringList cells = {QString::number(task), info.input,
                       info.worker >= 0 ? QString::number(info.worker) : QString(),
                       stateName(info.state), seconds};
  for (int c = 0; c < cells.size(); ++c) {
    QTableWidgetItem* item = tasks_->item(task, c);
    if (item == nullptr) tasks_->setItem(task, c, item = new QTableWidgetItem);
    item->setText(cells[c]);
  }
}

QString MainWindow::taskDetails(int task) const {
  if (task < 0 || task >= taskInfo_.size()) return {};
  const TaskInfo& info = taskInfo_[task];
  QString text = QString("task %1 (%2) on worker %3\ninput: %4\n")
                     .arg(task)
                     .arg(stateName(info.state))
                     .arg(info.worker)
                     .arg(info.input);
  if (info.state == TaskState::kOk) text += "result: " + info.result + "\n";
  if (!info.error.isEmpty()) text += "error: " + info.error + "\n";
  if (!info.traceback.isEmpty()) text += "\nworker traceback:\n" + info.traceback;
  return text;
}

void MainWindow::showTask(int task) {
  details_->setPlainText(taskDetails(task));
  tasks_->selectRow(task);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  // Closing during a run cancels it (running interpreter tasks are interrupted) and waits for
  // the pool to end, so that no worker outlives the window or Python's finalization.
  queue_.clear();
  controller_->stopAndWait();
  event->accept();
}
