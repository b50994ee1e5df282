// GanttView.h: one lane per worker, one bar per task from its real start to its real end.
#pragma once

#include <QVector>
#include <QWidget>

#include "RunController.h"

class GanttView : public QWidget {
  Q_OBJECT

 public:
  explicit GanttView(QWidget* parent = nullptr);

  void reset(int workers, int tasks);
  void taskStarted(int task, int worker, double time);
  void taskFinished(int task, int worker, double time);
  void setState(int task, TaskState state);
  // The run's clock now (seconds): running bars reach it.
  void setNow(double now);
  // After a run: the time axis ends where the last bar ends.
  void fitToBars();

  struct Bar {
    int worker = -1;
    double start = -1, end = -1;
    TaskState state = TaskState::kQueued;
  };
  const QVector<Bar>& bars() const { return bars_; }

 signals:
  void taskClicked(int task);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRectF barRect(const Bar& bar) const;
  double span() const;

  int workers_ = 1;
  double now_ = 0;
  QVector<Bar> bars_;
};
