// Workload.cpp: JSON input lines to pergil::Values (through Qt's JSON parser), and back to text.
#include "Workload.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QVariant>

namespace {

pergil::Value fromJson(const QJsonValue& json) {
  switch (json.type()) {
    case QJsonValue::Bool:
      return pergil::Value(json.toBool());
    case QJsonValue::Double: {
      // Qt keeps JSON integers as 64-bit integers: they stay Python ints.
      QVariant variant = json.toVariant();
      if (variant.typeId() == QMetaType::LongLong || variant.typeId() == QMetaType::Int)
        return pergil::Value(static_cast<int64_t>(variant.toLongLong()));
      return pergil::Value(json.toDouble());
    }
    case QJsonValue::String:
      return pergil::Value(json.toString().toStdString());
    case QJsonValue::Array: {
      pergil::Value::List items;
      for (const QJsonValue& item : json.toArray()) items.push_back(fromJson(item));
      return pergil::Value(std::move(items));
    }
    case QJsonValue::Object: {
      pergil::Value::Map items;
      QJsonObject object = json.toObject();
      for (auto it = object.begin(); it != object.end(); ++it)
        items.emplace(it.key().toStdString(), fromJson(it.value()));
      return pergil::Value(std::move(items));
    }
    default:
      return pergil::Value();
  }
}

}  // namespace

bool parseJsonLines(const QString& text, std::vector<pergil::Value>* out, QStringList* labels,
                    QString* error) {
  const QStringList lines = text.split('\n');
  for (int i = 0; i < lines.size(); ++i) {
    QString line = lines[i].trimmed();
    if (line.isEmpty()) continue;
    // QJsonDocument parses arrays and objects only: a scalar line is read inside an array.
    QJsonParseError parse{};
    QJsonDocument doc = QJsonDocument::fromJson(("[" + line + "]").toUtf8(), &parse);
    if (parse.error != QJsonParseError::NoError || doc.array().size() != 1) {
      QString reason = parse.error != QJsonParseError::NoError ? parse.errorString()
                                                               : QString("more than one value");
      *error = QString("input line %1 is not one JSON value (%2): %3").arg(i + 1).arg(reason, line);
      return false;
    }
    out->push_back(fromJson(doc.array().at(0)));
    labels->append(line);
  }
  if (out->empty()) {
    *error = "no inputs: type one JSON value a line, or load them from a file";
    return false;
  }
  return true;
}

QString valueText(const pergil::Value& value, int maxLength) {
  QString text = QString::fromStdString(value.to_string());
  if (text.size() > maxLength) text = text.left(maxLength) + " ...";
  return text;
}
