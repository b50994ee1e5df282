// MainWindow.h: the app's window: workload, workers and mode, Run/Cancel, the live Gantt view,
// the comparison chart, the runs table and every task's details.
#pragma once

#include <pergil/pergil.h>

#include <QList>
#include <QMainWindow>
#include <QTimer>

#include "CpuMeter.h"
#include "RunController.h"
#include "RunsTable.h"

class CompareChart;
class GanttView;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class WorkloadPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  MainWindow(pergil::Runtime& runtime, const QString& pythonNote, QWidget* parent = nullptr);
  ~MainWindow() override;

  // What tests read back.
  bool busy() const;
  QString message() const;
  GanttView* gantt() const { return gantt_; }
  CompareChart* chart() const { return chart_; }
  RunsTable* runsTable() const { return runs_; }
  WorkloadPanel* workloadPanel() const { return workload_; }
  // The details text of task `task` of the current run.
  QString taskDetails(int task) const;

 signals:
  void runsIdle();  // a run (or a run of all four modes) ended and nothing more is queued

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  struct TaskInfo {
    QString input;
    bool started = false;
    int worker = -1;
    double start = -1, end = -1;
    TaskState state = TaskState::kQueued;
    QString result, error, traceback;
  };

  QWidget* controls();
  QWidget* results();
  void runOne();
  void runAll();
  void startNext();
  void showMessage(const QString& text, bool error);
  void onTaskStarted(int runId, int task, int worker, double time);
  void onTaskFinished(int runId, int task, int worker, double time);
  void onTaskDone(int runId, int task, int state, QString result, QString error, QString traceback);
  void onRunFailed(int runId, QString message);
  void onRunEnded(int runId, double wall, bool cancelled);
  void tick();
  void updateTaskRow(int task);
  void showTask(int task);

  RunController* controller_;
  WorkloadPanel* workload_;
  QSpinBox* workers_;
  QComboBox* mode_;
  QPushButton* run_;
  QPushButton* runAll_;
  QPushButton* cancel_;
  QLabel* message_;
  GanttView* gantt_;
  QProgressBar* progress_;
  QLabel* stats_;
  CompareChart* chart_;
  RunsTable* runs_;
  QTableWidget* tasks_;
  QPlainTextEdit* details_;
  QTimer ticker_;
  CpuMeter cpu_;

  QList<pergil::Mode> queue_;  // modes still to run for "Run all four modes"
  Workload current_;
  pergil::Mode currentMode_ = pergil::Mode::kInterpreters;
  int currentWorkers_ = 1;
  int runId_ = 0;
  QList<TaskInfo> taskInfo_;
  int done_ = 0;
};
