// WorkloadPanel.cpp: the three workload tabs and turning them into a Workload.
#include "WorkloadPanel.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace {
const QStringList kTableFilters = {"*.csv", "*.xlsx"};
}  // namespace

WorkloadPanel::WorkloadPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  tabs_ = new QTabWidget;
  tabs_->setObjectName("workloadTabs");
  tabs_->addTab(cpuTab(), "CPU: fib(n)");
  tabs_->addTab(tablesTab(), "Load table files");
  tabs_->addTab(functionTab(), "module:function");
  layout->addWidget(tabs_);
}

void WorkloadPanel::selectKind(int kind) { tabs_->setCurrentIndex(kind); }

QWidget* WorkloadPanel::cpuTab() {
  auto* tab = new QWidget;
  auto* form = new QFormLayout(tab);
  fibN_ = new QSpinBox;
  fibN_->setObjectName("fibN");
  fibN_->setRange(1, 40);
  fibN_->setValue(27);
  fibTasks_ = new QSpinBox;
  fibTasks_->setObjectName("fibTasks");
  fibTasks_->setRange(1, 10000);
  fibTasks_->setValue(16);
  form->addRow("n (naive recursive fib)", fibN_);
  form->addRow("tasks", fibTasks_);
  return tab;
}

QWidget* WorkloadPanel::tablesTab() {
  auto* tab = new QWidget;
  auto* form = new QFormLayout(tab);
  tablePath_ = new QLineEdit;
  tablePath_->setObjectName("tablePath");
  tablePath_->setPlaceholderText("a folder, or files separated by ;");
  auto* files = new QPushButton("Files...");
  auto* folder = new QPushButton("Folder...");
  connect(files, &QPushButton::clicked, this, [this] {
    QStringList chosen = QFileDialog::getOpenFileNames(this, "Table files", QString(),
                                                       "Tables (*.csv *.xlsx);;All files (*)");
    if (!chosen.isEmpty()) tablePath_->setText(chosen.join(';'));
  });
  connect(folder, &QPushButton::clicked, this, [this] {
    QString chosen = QFileDialog::getExistingDirectory(this, "Folder of table files");
    if (!chosen.isEmpty()) tablePath_->setText(chosen);
  });
  auto* row = new QHBoxLayout;
  row->addWidget(tablePath_);
  row->addWidget(files);
  row->addWidget(folder);
  form->addRow("CSV, xlsx, StarTable", row);
  return tab;
}

QWidget* WorkloadPanel::functionTab() {
  auto* tab = new QWidget;
  auto* form = new QFormLayout(tab);
  target_ = new QLineEdit;
  target_->setObjectName("target");
  target_->setPlaceholderText("module:function");
  inputs_ = new QPlainTextEdit;
  inputs_->setObjectName("inputs");
  inputs_->setPlaceholderText("one JSON value a line, one call each");
  inputs_->setMaximumHeight(90);
  auto* load = new QPushButton("Load inputs...");
  connect(load, &QPushButton::clicked, this, [this] {
    QString path = QFileDialog::getOpenFileName(this, "Inputs, one JSON value a line");
    QFile file(path);
    if (!path.isEmpty() && file.open(QIODevice::ReadOnly))
      inputs_->setPlainText(QString::fromUtf8(file.readAll()));
  });
  sysPath_ = new QLineEdit;
  sysPath_->setObjectName("sysPath");
  sysPath_->setPlaceholderText("directories for sys.path, separated by :");
  form->addRow("function", target_);
  form->addRow("inputs", inputs_);
  form->addRow("", load);
  form->addRow("sys.path", sysPath_);
  return tab;
}

bool WorkloadPanel::build(Workload* out, QString* error) const {
  *out = Workload();
  switch (tabs_->currentIndex()) {
    case 0:
      return buildCpu(out);
    case 1:
      return buildTables(out, error);
    default:
      return buildFunction(out, error);
  }
}

bool WorkloadPanel::buildCpu(Workload* out) const {
  out->target = "pergil._gui_workloads:fib";
  out->name = QString("fib(%1) x %2").arg(fibN_->value()).arg(fibTasks_->value());
  for (int i = 0; i < fibTasks_->value(); ++i) {
    out->inputs.emplace_back(fibN_->value());
    out->labels << QString::number(fibN_->value());
  }
  return true;
}

bool WorkloadPanel::buildTables(Workload* out, QString* error) const {
  QStringList paths;
  for (const QString& part : tablePath_->text().split(';', Qt::SkipEmptyParts)) {
    QFileInfo info(part.trimmed());
    if (info.isDir()) {
      for (const QFileInfo& f :
           QDir(info.filePath()).entryInfoList(kTableFilters, QDir::Files, QDir::Name))
        paths << f.absoluteFilePath();
    } else if (info.isFile()) {
      paths << info.absoluteFilePath();
    } else {
      *error = QString("no such file or folder: %1").arg(part.trimmed());
      return false;
    }
  }
  if (paths.isEmpty()) {
    *error = "no table files: choose CSV, xlsx or StarTable files, or a folder holding them";
    return false;
  }
  out->target = "pergil._gui_workloads:load_table_file";
  out->name = QString("tables x %1").arg(paths.size());
  for (const QString& path : paths) {
    out->inputs.emplace_back(path.toStdString());
    out->labels << path;
  }
  return true;
}

bool WorkloadPanel::buildFunction(Workload* out, QString* error) const {
  QString target = target_->text().trimmed();
  QStringList parts = target.split(':');
  if (parts.size() != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
    *error = QString("the function must be module:function, not \"%1\"").arg(target);
    return false;
  }
  if (!parseJsonLines(inputs_->toPlainText(), &out->inputs, &out->labels, error)) return false;
  out->target = target.toStdString();
  out->name = QString("%1 x %2").arg(target).arg(out->inputs.size());
  for (const QString& dir : sysPath_->text().split(':', Qt::SkipEmptyParts))
    out->sysPath.push_back(QDir(dir.trimmed()).absolutePath().toStdString());
  return true;
}
