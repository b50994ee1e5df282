// test_main_window.cpp: QtTest cases that drive pergil-gui's real window (offscreen): every
// workload, the four modes, the runs table and chart, cancel, closing mid-run, bad inputs.
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QVersionNumber>
#include <QtTest>
#include <memory>

#include "CompareChart.h"
#include "GanttView.h"
#include "MainWindow.h"
#include "WorkloadPanel.h"

namespace {

pergil::Runtime* runtime = nullptr;
constexpr int kRunTimeoutMs = 180000;  // generous: a slow, loaded CI machine; never a speed check

template <class T>
T* child(QWidget* w, const char* name) {
  T* found = w->findChild<T*>(name);
  if (found == nullptr) qFatal("no widget %s", name);
  return found;
}

// Clicks `button` and waits until the window has no run going or queued.
bool runAndWait(MainWindow& w, const char* button) {
  QSignalSpy idle(&w, &MainWindow::runsIdle);
  child<QPushButton>(&w, button)->click();
  return idle.count() > 0 || idle.wait(kRunTimeoutMs);
}

void useFunction(MainWindow& w, const QString& target, const QString& inputs) {
  w.workloadPanel()->selectKind(2);
  child<QLineEdit>(&w, "target")->setText(target);
  child<QPlainTextEdit>(&w, "inputs")->setPlainText(inputs);
  child<QLineEdit>(&w, "sysPath")->setText(PERGIL_GUI_TEST_DIR);
}

void setMode(MainWindow& w, const char* mode, int workers) {
  child<QComboBox>(&w, "mode")->setCurrentText(mode);
  child<QSpinBox>(&w, "workers")->setValue(workers);
}

// Writes a .xlsx (gui_helpers.write_workbook: openpyxl) through the embedded Python.
void writeWorkbook(const QString& path, const char* kind) {
  pergil::PoolOptions options;
  options.mode = pergil::Mode::kSerial;
  options.sys_path = {PERGIL_GUI_TEST_DIR};
  pergil::Pool pool(*runtime, options);
  pool.submit("gui_helpers:write_workbook", {path.toStdString(), kind}).get();
}

int runningBars(MainWindow& w) {
  int running = 0;
  for (const GanttView::Bar& bar : w.gantt()->bars()) running += bar.state == TaskState::kRunning;
  return running;
}

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT

 private slots:
  void cpu_workload_in_all_four_modes_fills_table_chart_and_gantt();
  void table_files_load_in_every_mode();
  void a_function_failing_for_some_inputs_shows_each_traceback();
  void a_target_that_does_not_import_says_so();
  void an_input_line_that_is_not_json_says_which();
  void a_module_refusing_sub_interpreters_says_why_and_runs_in_processes();
  void cancel_interrupts_running_sub_interpreter_tasks_within_a_second();
  void closing_during_a_run_cancels_it();
};

void TestMainWindow::cpu_workload_in_all_four_modes_fills_table_chart_and_gantt() {
  MainWindow w(*runtime, "test");
  w.show();
  w.workloadPanel()->selectKind(0);
  child<QSpinBox>(&w, "fibN")->setValue(29);
  child<QSpinBox>(&w, "fibTasks")->setValue(8);
  child<QSpinBox>(&w, "workers")->setValue(2);
  QVERIFY(runAndWait(w, "runAll"));
  const QList<RunSummary>& runs = w.runsTable()->runs();
  QCOMPARE(runs.size(), 4);
  QStringList modes = {"serial", "threads", "processes", "interpreters"};
  for (int i = 0; i < 4; ++i) {
    QCOMPARE(runs[i].mode, modes[i]);
    QCOMPARE(runs[i].workers, i == 0 ? 1 : 2);
    QCOMPARE(runs[i].tasks, 8);
    QCOMPARE(runs[i].failures, 0);
    QVERIFY(runs[i].wall > 0);
    QCOMPARE(w.chart()->wallOf(modes[i]), runs[i].wall);
    QVERIFY(qFuzzyCompare(w.chart()->speedupOf(modes[i]), runs[0].wall / runs[i].wall));
    QCOMPARE(w.runsTable()->item(i, 1)->text(), modes[i]);
  }
  // The last run's Gantt view: every task ran on one of the two workers, start before end.
  for (const GanttView::Bar& bar : w.gantt()->bars()) {
    QVERIFY(bar.worker == 0 || bar.worker == 1);
    QVERIFY(bar.start >= 0 && bar.end >= bar.start);
    QVERIFY(bar.state == TaskState::kOk);
  }
  QVERIFY(w.taskDetails(3).contains("result: 514229"));
  QVERIFY(w.message().contains("interpreters"));
  QImage shot = w.grab().toImage();
  QVERIFY(shot.save(PERGIL_GUI_SCREENSHOT));
  qInfo("screenshot: %s", PERGIL_GUI_SCREENSHOT);
  for (const RunSummary& r : runs)
    qInfo("%s x%d: wall %.3f s, speed-up %.2fx", qPrintable(r.mode), r.workers, r.wall, r.speedup);
}

void TestMainWindow::table_files_load_in_every_mode() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  auto write = [&](const QString& name, const QByteArray& text) {
    QFile f(dir.filePath(name));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
  };
  write("plain.csv", "a,b\n1,2\n3,4\n5,6\n");
  write("star.csv", "**first\nall\nx;y\nm;kg\n1;2\n3;4\n\n**second\nall\nz\n-\n5\n");
  write("notes.txt", "not a table");
  writeWorkbook(dir.filePath("book.xlsx"), "plain");
  writeWorkbook(dir.filePath("star.xlsx"), "startable");
  // The summaries (tasks in file name order, keys sorted); gui_helpers.write_workbook says
  // what each workbook holds.
  const QStringList expected = {
      "{'bad_tables': 0, 'columns': 4, 'fast_tables': 0, 'file': 'book.xlsx', "
      "'reader': 'xlsx (pergil.tables)', 'rows': 4, 'tables': 2}",
      "{'bad_tables': 0, 'columns': 2, 'fast_tables': 0, 'file': 'plain.csv', "
      "'reader': 'csv (csv module)', 'rows': 3, 'tables': 1}",
      "{'bad_tables': 0, 'columns': 3, 'fast_tables': 2, 'file': 'star.csv', "
      "'reader': 'StarTable csv (pergil.tables)', 'rows': 3, 'tables': 2}",
      "{'bad_tables': 0, 'columns': 3, 'fast_tables': 2, 'file': 'star.xlsx', "
      "'reader': 'StarTable xlsx (pergil.tables)', 'rows': 5, 'tables': 2}"};
  const bool xlsxRefused = QVersionNumber::fromString(PERGIL_GUI_PYTHON_VERSION) <
                           QVersionNumber(3, 13);  // pyexpat refuses sub-interpreters there
  MainWindow w(*runtime, "test");
  w.workloadPanel()->selectKind(1);
  child<QLineEdit>(&w, "tablePath")->setText(dir.path());
  for (const char* mode : {"serial", "threads", "processes", "interpreters"}) {
    setMode(w, mode, 2);
    QVERIFY(runAndWait(w, "run"));
    const RunSummary& run = w.runsTable()->runs().last();
    QCOMPARE(run.mode, QString(mode));
    QCOMPARE(run.tasks, 4);  // the .txt file is not a table
    bool refused = xlsxRefused && QString(mode) == "interpreters";
    QCOMPARE(run.failures, refused ? 2 : 0);
    if (refused) {  // the window's message says why, as for a target that refuses
      QVERIFY2(w.message().contains("2 of 4 tasks failed"), qPrintable(w.message()));
      QVERIFY2(w.message().contains("pyexpat"), qPrintable(w.message()));
      QVERIFY2(w.message().contains("the processes mode runs it"), qPrintable(w.message()));
    }
    for (int task = 0; task < 4; ++task) {
      QString details = w.taskDetails(task);
      if (refused && (task == 0 || task == 3)) {
        QVERIFY2(details.contains("cannot run in a sub-interpreter"), qPrintable(details));
        QVERIFY2(details.contains("the processes mode runs it"), qPrintable(details));
      } else {
        QVERIFY2(details.contains(expected[task]), qPrintable(details));
      }
    }
  }
  child<QLineEdit>(&w, "tablePath")->setText(dir.filePath("missing"));
  QVERIFY(runAndWait(w, "run"));
  QVERIFY(w.message().contains("no such file or folder"));
}

void TestMainWindow::a_function_failing_for_some_inputs_shows_each_traceback() {
  MainWindow w(*runtime, "test");
  useFunction(w, "gui_helpers:half", "1\n2\n3\n4\n5\n6\n");
  for (const char* mode : {"threads", "interpreters"}) {
    setMode(w, mode, 2);
    QVERIFY(runAndWait(w, "run"));
    const RunSummary& run = w.runsTable()->runs().last();
    QCOMPARE(run.tasks, 6);
    QCOMPARE(run.failures, 3);
    QVERIFY2(w.message().contains("3 of 6 tasks failed"), qPrintable(w.message()));
    QString failed = w.taskDetails(0);
    QVERIFY2(failed.contains("ValueError: odd input 1"), qPrintable(failed));
    QVERIFY(failed.contains("worker traceback"));
    QVERIFY(failed.contains("gui_helpers.py"));
    QVERIFY(w.taskDetails(1).contains("result: 1"));
  }
}

void TestMainWindow::a_target_that_does_not_import_says_so() {
  MainWindow w(*runtime, "test");
  useFunction(w, "no_such_module_pergil:f", "1\n");
  for (const char* mode : {"processes", "interpreters"}) {
    setMode(w, mode, 1);
    QVERIFY(runAndWait(w, "run"));
    QVERIFY2(w.message().contains("no module named 'no_such_module_pergil'"),
             qPrintable(w.message()));
  }
  QCOMPARE(w.runsTable()->runs().size(), 0);
  useFunction(w, "gui_helpers:no_such_function", "1\n");
  QVERIFY(runAndWait(w, "run"));
  QVERIFY2(w.message().contains("has no attribute 'no_such_function'"), qPrintable(w.message()));
  useFunction(w, "not a target", "1\n");
  QVERIFY(runAndWait(w, "run"));
  QVERIFY(w.message().contains("must be module:function"));
}

void TestMainWindow::an_input_line_that_is_not_json_says_which() {
  MainWindow w(*runtime, "test");
  useFunction(w, "gui_helpers:half", "2\n{oops\n4\n");
  QVERIFY(runAndWait(w, "run"));
  QVERIFY2(w.message().contains("input line 2 is not one JSON value"), qPrintable(w.message()));
  QVERIFY(w.message().contains("{oops"));
  useFunction(w, "gui_helpers:half", "\n\n");
  QVERIFY(runAndWait(w, "run"));
  QVERIFY(w.message().contains("no inputs"));
  QCOMPARE(w.runsTable()->runs().size(), 0);
}

void TestMainWindow::a_module_refusing_sub_interpreters_says_why_and_runs_in_processes() {
  MainWindow w(*runtime, "test");
  useFunction(w, "refuses_subinterpreters:echo", "1\n\"two\"\n");
  setMode(w, "interpreters", 2);
  QVERIFY(runAndWait(w, "run"));
  QVERIFY2(w.message().contains("cannot run in a sub-interpreter"), qPrintable(w.message()));
  QVERIFY(w.message().contains("_curses"));
  QCOMPARE(w.runsTable()->runs().size(), 0);
  setMode(w, "processes", 2);
  QVERIFY(runAndWait(w, "run"));
  QCOMPARE(w.runsTable()->runs().size(), 1);
  QCOMPARE(w.runsTable()->runs().last().failures, 0);
  QVERIFY(w.taskDetails(1).contains("result: 'two'"));
}

void TestMainWindow::cancel_interrupts_running_sub_interpreter_tasks_within_a_second() {
  MainWindow w(*runtime, "test");
  useFunction(w, "gui_helpers:spin", "120\n120\n120\n120\n120\n");
  setMode(w, "interpreters", 2);
  QSignalSpy idle(&w, &MainWindow::runsIdle);
  child<QPushButton>(&w, "run")->click();
  QTRY_COMPARE_WITH_TIMEOUT(runningBars(w), 2, kRunTimeoutMs);
  QElapsedTimer clock;
  clock.start();
  child<QPushButton>(&w, "cancel")->click();
  QVERIFY(idle.wait(kRunTimeoutMs));
  qint64 took = clock.elapsed();
  QVERIFY2(took < 1000, qPrintable(QString("cancel took %1 ms").arg(took)));
  const RunSummary& run = w.runsTable()->runs().last();
  QVERIFY(run.cancelled);
  QCOMPARE(run.interrupted, 2);
  QVERIFY2(w.message().contains("interrupted while running: tasks 0, 1"), qPrintable(w.message()));
  QVERIFY(w.taskDetails(0).contains("(interrupted)"));
  QVERIFY(w.taskDetails(4).contains("(cancelled)"));
}

void TestMainWindow::closing_during_a_run_cancels_it() {
  auto w = std::make_unique<MainWindow>(*runtime, "test");
  w->show();
  useFunction(*w, "gui_helpers:spin", "120\n120\n120\n");
  setMode(*w, "interpreters", 2);
  child<QPushButton>(w.get(), "run")->click();
  QTRY_COMPARE_WITH_TIMEOUT(runningBars(*w), 2, kRunTimeoutMs);
  QVERIFY(w->close());  // cancels, interrupts and waits for the pool
  QVERIFY(!w->busy());
  w.reset();
  // The process then finalizes Python with no worker left (checked by this test's exit status).
}

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  pergil::Runtime rt(pergil::RuntimeOptions{PERGIL_GUI_PYTHON});
  runtime = &rt;
  TestMainWindow tests;
  return QTest::qExec(&tests, argc, argv);
}

#include "test_main_window.moc"
