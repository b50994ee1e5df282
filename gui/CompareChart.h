// CompareChart.h: bar charts of each mode's latest wall time and its speed-up over serial.
#pragma once

#include <QMap>
#include <QWidget>

class QBarSet;
class QBarSeries;
class QBarCategoryAxis;
class QValueAxis;
class QChart;

class CompareChart : public QWidget {
  Q_OBJECT

 public:
  explicit CompareChart(QWidget* parent = nullptr);

  // Records a finished run of `mode`; speed-up is serial's wall / this wall (0: no serial yet).
  void setRun(const QString& mode, double wall, double speedup);
  void clear();
  // The values drawn, by mode (for tests and the screenshot): -1 if the mode has no bar.
  double wallOf(const QString& mode) const;
  double speedupOf(const QString& mode) const;

 private:
  void rebuild();

  QMap<QString, QPair<double, double>> runs_;  // mode -> (wall, speed-up)
  QChart* wallChart_;
  QChart* speedupChart_;
};
