// WorkloadPanel.h: choosing a workload: CPU (fib), table files, or any module:function.
#pragma once

#include <QWidget>

#include "Workload.h"

class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QTabWidget;

class WorkloadPanel : public QWidget {
  Q_OBJECT

 public:
  explicit WorkloadPanel(QWidget* parent = nullptr);

  // The chosen workload, or false with a message for the window (bad JSON line, no files...).
  bool build(Workload* out, QString* error) const;
  // Selects a tab: 0 CPU, 1 table files, 2 function.
  void selectKind(int kind);

 private:
  bool buildCpu(Workload* out) const;
  bool buildTables(Workload* out, QString* error) const;
  bool buildFunction(Workload* out, QString* error) const;
  QWidget* cpuTab();
  QWidget* tablesTab();
  QWidget* functionTab();

  QTabWidget* tabs_;
  QSpinBox* fibN_;
  QSpinBox* fibTasks_;
  QLineEdit* tablePath_;
  QLineEdit* target_;
  QPlainTextEdit* inputs_;
  QLineEdit* sysPath_;
};
