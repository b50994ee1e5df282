// RunsTable.h: one row per finished run: mode, workers, wall, speed-up, tasks, failures.
#pragma once

#include <QTableWidget>

struct RunSummary {
  QString workload;
  QString mode;
  int workers = 0;
  double wall = 0;
  double speedup = 0;  // 0: no serial run of this workload yet
  int tasks = 0;
  int failures = 0;
  int interrupted = 0;
  bool cancelled = false;
};

class RunsTable : public QTableWidget {
  Q_OBJECT

 public:
  explicit RunsTable(QWidget* parent = nullptr);
  void addRun(const RunSummary& run);
  const QList<RunSummary>& runs() const { return runs_; }
  // The latest serial run of `workload`, or null.
  const RunSummary* latestSerial(const QString& workload) const;

 private:
  QList<RunSummary> runs_;
};
