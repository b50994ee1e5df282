// CompareChart.cpp: two Qt Charts bar charts (wall seconds, speed-up x) over the four modes.
#include "CompareChart.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QValueAxis>
#include <algorithm>

namespace {

const QStringList kModes = {"serial", "threads", "processes", "interpreters"};

QChart* makeChart(const QString& title) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->hide();
  chart->setMargins(QMargins(4, 4, 4, 4));
  return chart;
}

// Replaces the chart's series with one bar per mode in `values` (absent modes are 0).
void fill(QChart* chart, const QString& label, const QList<double>& values, const QColor& colour) {
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
  auto* set = new QBarSet(label);
  set->setColor(colour);
  set->setLabelColor(Qt::black);
  for (double v : values) *set << v;
  auto* series = new QBarSeries;
  series->append(set);
  series->setLabelsVisible(true);
  series->setLabelsFormat("@value");
  series->setLabelsPrecision(3);
  chart->addSeries(series);
  auto* x = new QBarCategoryAxis;
  x->append(kModes);
  chart->addAxis(x, Qt::AlignBottom);
  series->attachAxis(x);
  auto* y = new QValueAxis;
  double top = *std::max_element(values.begin(), values.end());
  y->setRange(0, top > 0 ? top * 1.25 : 1.0);
  y->setLabelFormat("%.2f");
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(y);
}

}  // namespace

CompareChart::CompareChart(QWidget* parent)
    : QWidget(parent),
      wallChart_(makeChart("Wall time (s), latest run per mode")),
      speedupChart_(makeChart("Speed-up over serial (x)")) {
  setObjectName("compareChart");
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  for (QChart* chart : {wallChart_, speedupChart_}) {
    auto* view = new QChartView(chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(200);
    layout->addWidget(view);
  }
  rebuild();
}

void CompareChart::setRun(const QString& mode, double wall, double speedup) {
  runs_[mode] = {wall, speedup};
  rebuild();
}

void CompareChart::clear() {
  runs_.clear();
  rebuild();
}

double CompareChart::wallOf(const QString& mode) const {
  return runs_.contains(mode) ? runs_[mode].first : -1;
}

double CompareChart::speedupOf(const QString& mode) const {
  return runs_.contains(mode) ? runs_[mode].second : -1;
}

void CompareChart::rebuild() {
  QList<double> walls, speedups;
  for (const QString& mode : kModes) {
    walls << (runs_.contains(mode) ? runs_[mode].first : 0.0);
    speedups << (runs_.contains(mode) ? runs_[mode].second : 0.0);
  }
  fill(wallChart_, "wall s", walls, QColor(66, 133, 244));
  fill(speedupChart_, "speed-up", speedups, QColor(52, 168, 83));
}
