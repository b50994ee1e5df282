// GanttView.cpp: painting the lanes, the bars (coloured by outcome) and the time axis.
#include "GanttView.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>

namespace {

constexpr int kLeft = 70, kTop = 8, kBottom = 22, kRight = 10;

QColor colour(TaskState state) {
  switch (state) {
    case TaskState::kRunning:
      return QColor(66, 133, 244);
    case TaskState::kOk:
      return QColor(52, 168, 83);
    case TaskState::kFailed:
      return QColor(219, 68, 55);
    case TaskState::kInterrupted:
      return QColor(244, 160, 0);
    default:
      return QColor(160, 160, 160);
  }
}

}  // namespace

GanttView::GanttView(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(160);
  setObjectName("ganttView");
}

void GanttView::reset(int workers, int tasks) {
  workers_ = std::max(1, workers);
  now_ = 0;
  bars_ = QVector<Bar>(tasks);
  update();
}

void GanttView::taskStarted(int task, int worker, double time) {
  if (task < 0 || task >= bars_.size()) return;
  Bar& bar = bars_[task];
  bar.worker = worker;
  bar.start = time;
  if (bar.state == TaskState::kQueued) bar.state = TaskState::kRunning;
  now_ = std::max(now_, time);
  update();
}

void GanttView::taskFinished(int task, int worker, double time) {
  if (task < 0 || task >= bars_.size()) return;
  Bar& bar = bars_[task];
  bar.worker = worker;
  bar.end = time;
  now_ = std::max(now_, time);
  update();
}

void GanttView::setState(int task, TaskState state) {
  if (task < 0 || task >= bars_.size()) return;
  bars_[task].state = state;
  update();
}

void GanttView::setNow(double now) {
  now_ = std::max(now_, now);
  update();
}

void GanttView::fitToBars() {
  double last = 0;
  for (const Bar& bar : bars_) last = std::max({last, bar.start, bar.end});
  now_ = last;
  update();
}

double GanttView::span() const { return std::max(now_, 1e-3); }

QRectF GanttView::barRect(const Bar& bar) const {
  double laneHeight = double(height() - kTop - kBottom) / workers_;
  double scale = (width() - kLeft - kRight) / span();
  double end = bar.end >= 0 ? bar.end : now_;
  double x = kLeft + bar.start * scale;
  double w = std::max(2.0, (end - bar.start) * scale);
  return QRectF(x, kTop + bar.worker * laneHeight + 2, w, std::max(2.0, laneHeight - 4));
}

void GanttView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  double laneHeight = double(height() - kTop - kBottom) / workers_;
  for (int w = 0; w < workers_; ++w) {
    QRectF lane(kLeft, kTop + w * laneHeight, width() - kLeft - kRight, laneHeight);
    p.fillRect(lane, w % 2 ? QColor(245, 245, 245) : QColor(235, 235, 235));
    p.setPen(palette().text().color());
    p.drawText(QRectF(0, lane.top(), kLeft - 6, laneHeight), Qt::AlignRight | Qt::AlignVCenter,
               QString("worker %1").arg(w));
  }
  for (const Bar& bar : bars_) {
    if (bar.worker < 0 || bar.worker >= workers_ || bar.start < 0) continue;
    QRectF r = barRect(bar);
    p.fillRect(r, colour(bar.state));
    p.setPen(QColor(255, 255, 255));
    p.drawRect(r);
  }
  // Time axis: about six ticks, in seconds.
  p.setPen(palette().text().color());
  double step = span() / 6;
  for (int i = 0; i <= 6; ++i) {
    double x = kLeft + i * (width() - kLeft - kRight) / 6.0;
    p.drawLine(QPointF(x, height() - kBottom), QPointF(x, height() - kBottom + 4));
    p.drawText(QRectF(x - 40, height() - kBottom + 4, 80, kBottom - 4), Qt::AlignHCenter,
               QString::number(i * step, 'f', 2) + " s");
  }
}

void GanttView::mousePressEvent(QMouseEvent* event) {
  for (int i = 0; i < bars_.size(); ++i) {
    const Bar& bar = bars_[i];
    if (bar.worker >= 0 && bar.start >= 0 && barRect(bar).contains(event->position())) {
      emit taskClicked(i);
      return;
    }
  }
}
