// PythonLocator.cpp: picking the embedded Python's executable from arguments, environment, build.
#include "PythonLocator.h"

#include <QFileInfo>
#include <QProcessEnvironment>

QString PythonLocator::choose(const QStringList& arguments, QString* how) {
  int at = arguments.indexOf("--python");
  if (at >= 0 && at + 1 < arguments.size()) {
    *how = "--python";
    return arguments[at + 1];
  }
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  if (!env.value("PERGIL_PYTHON").isEmpty()) {
    *how = "$PERGIL_PYTHON";
    return env.value("PERGIL_PYTHON");
  }
  QString venv = env.value("VIRTUAL_ENV");
  if (!venv.isEmpty() && QFileInfo(venv + "/bin/python").isExecutable()) {
    *how = "$VIRTUAL_ENV";
    return venv + "/bin/python";
  }
  *how = "the build's Python";
  return QString(PERGIL_GUI_PYTHON);
}
