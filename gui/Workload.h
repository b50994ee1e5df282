// Workload.h: what one run computes: a "module:function", its inputs and where it is found.
#pragma once

#include <pergil/pergil.h>

#include <QString>
#include <QStringList>
#include <string>
#include <vector>

struct Workload {
  QString name;                       // "CPU: fib(27) x 16", shown in the runs table
  std::string target;                 // "module:function"
  std::vector<pergil::Value> inputs;  // one call per input
  QStringList labels;                 // each input as text, for the task list
  std::vector<std::string> sysPath;   // directories put in front of the workers' sys.path
};

// Parses one JSON value per non-empty line into `out` (and its text into `labels`). On a line
// that is not JSON, returns false with `error` naming the line and the reason.
bool parseJsonLines(const QString& text, std::vector<pergil::Value>* out, QStringList* labels,
                    QString* error);

// A pergil::Value as JSON-like text for the window (Python's repr style, clipped).
QString valueText(const pergil::Value& value, int maxLength = 2000);
