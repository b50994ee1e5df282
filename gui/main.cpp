// main.cpp: pergil-gui: starts the embedded Python (pergil::Runtime) and the main window.
#include <pergil/pergil.h>

#include <QApplication>
#include <QMessageBox>
#include <memory>

#include "MainWindow.h"
#include "PythonLocator.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QString how;
  QString python = PythonLocator::choose(app.arguments(), &how);
  std::unique_ptr<pergil::Runtime> runtime;
  try {
    runtime = std::make_unique<pergil::Runtime>(pergil::RuntimeOptions{python.toStdString()});
  } catch (const std::exception& e) {
    QMessageBox::critical(nullptr, "pergil-gui",
                          QString("Python %1 (chosen by %2) does not start: %3\nThe app embeds "
                                  "Python %4: give a Python of that version with --python.")
                              .arg(python, how, e.what(), PERGIL_GUI_PYTHON_VERSION));
    return 1;
  }
  int status = 0;
  {
    MainWindow window(
        *runtime, QString("Python %1: %2 (chosen by %3)")
                      .arg(QString::fromStdString(pergil::Runtime::python_version()), python, how));
    window.show();
    status = app.exec();
  }  // the window's runs have ended before the Runtime finalizes Python
  runtime.reset();
  return status;
}
