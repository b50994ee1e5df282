// PythonLocator.h: which Python executable (and so which venv) the app embeds.
#pragma once

#include <QString>
#include <QStringList>

class PythonLocator {
 public:
  // In order: --python PATH on the command line, $PERGIL_PYTHON, $VIRTUAL_ENV/bin/python, the
  // Python the app was built against (CMake's Python_EXECUTABLE). Empty if none exists.
  static QString choose(const QStringList& arguments, QString* how);
};
