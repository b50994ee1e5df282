// RunsTable.cpp: the runs so far, newest last.
#include "RunsTable.h"

#include <QHeaderView>

RunsTable::RunsTable(QWidget* parent) : QTableWidget(0, 8, parent) {
  setObjectName("runsTable");
  setHorizontalHeaderLabels(
      {"workload", "mode", "workers", "wall (s)", "speed-up", "tasks", "failures", "interrupted"});
  horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  horizontalHeader()->setStretchLastSection(true);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  verticalHeader()->hide();
}

void RunsTable::addRun(const RunSummary& run) {
  runs_.append(run);
  int row = rowCount();
  insertRow(row);
  QString mode = run.cancelled ? run.mode + " (cancelled)" : run.mode;
  QStringList cells = {run.workload,
                       mode,
                       QString::number(run.workers),
                       QString::number(run.wall, 'f', 3),
                       run.speedup > 0 ? QString::number(run.speedup, 'f', 2) + "x" : "-",
                       QString::number(run.tasks),
                       QString::number(run.failures),
                       QString::number(run.interrupted)};
  for (int c = 0; c < cells.size(); ++c) setItem(row, c, new QTableWidgetItem(cells[c]));
  scrollToBottom();
}

const RunSummary* RunsTable::latestSerial(const QString& workload) const {
  for (int i = runs_.size() - 1; i >= 0; --i)
    if (runs_[i].mode == "serial" && runs_[i].workload == workload && !runs_[i].cancelled)
      return &runs_[i];
  return nullptr;
}
