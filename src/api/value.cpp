// value.cpp: pergil::Value construction, typed access, equality and Python-like text.
#include "pergil/value.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <ostream>

#include "pergil/errors.h"

namespace pergil {

Value::MapBox::MapBox(Map map) : map_(std::make_unique<Map>(std::move(map))) {}
Value::MapBox::MapBox(const MapBox& other) : map_(std::make_unique<Map>(*other.map_)) {}
Value::MapBox& Value::MapBox::operator=(const MapBox& other) {
  if (this != &other) map_ = std::make_unique<Map>(*other.map_);
  return *this;
}
Value::MapBox::~MapBox() = default;

Value::Value() noexcept = default;
Value::Value(std::nullptr_t) noexcept {}
Value::Value(bool b) noexcept : data_(b) {}
Value::Value(int64_t i, IntTag) noexcept : data_(i) {}
Value::Value(double d) noexcept : data_(d) {}
Value::Value(const char* s) : data_(std::string(s)) {}
Value::Value(std::string s) noexcept : data_(std::move(s)) {}
Value::Value(std::string_view s) : data_(std::string(s)) {}
Value::Value(Bytes b) noexcept : data_(std::move(b)) {}
Value::Value(List l) noexcept : data_(std::move(l)) {}
Value::Value(Map m) : data_(MapBox(std::move(m))) {}

Value Value::bytes(const void* data, size_t size) {
  const auto* first = static_cast<const std::byte*>(data);
  return Value(Bytes(first, first + size));
}
Value Value::bytes(std::string_view raw) { return bytes(raw.data(), raw.size()); }
Value Value::list(List items) noexcept { return Value(std::move(items)); }
Value Value::map(Map items) { return Value(std::move(items)); }

Value::Value(const Value& other) = default;
// A moved-from Value is none: a moved-from MapBox holds no map and must not stay reachable.
Value::Value(Value&& other) noexcept : data_(std::move(other.data_)) {
  other.data_ = std::monostate{};
}
Value& Value::operator=(const Value& other) = default;
Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    data_ = std::move(other.data_);
    other.data_ = std::monostate{};
  }
  return *this;
}
Value::~Value() = default;

Value::Type Value::type() const noexcept { return static_cast<Type>(data_.index()); }

const char* Value::type_name(Type type) noexcept {
  static const char* const names[] = {"none",   "bool",  "int",  "double",
                                      "string", "bytes", "list", "map"};
  return names[static_cast<size_t>(type)];
}
const char* Value::type_name() const noexcept { return type_name(type()); }

void Value::throw_out_of_range() {
  throw std::out_of_range("pergil::Value: integer above INT64_MAX");
}

void Value::throw_type(Type wanted) const {
  throw ValueTypeError(std::string("pergil::Value holds ") + type_name() + ", not " +
                       type_name(wanted));
}

bool Value::as_bool() const {
  if (!is_bool()) throw_type(Type::kBool);
  return std::get<bool>(data_);
}
int64_t Value::as_int() const {
  if (!is_int()) throw_type(Type::kInt);
  return std::get<int64_t>(data_);
}
double Value::as_double() const {
  if (is_int()) return static_cast<double>(std::get<int64_t>(data_));
  if (!is_double()) throw_type(Type::kDouble);
  return std::get<double>(data_);
}
const std::string& Value::as_string() const {
  if (!is_string()) throw_type(Type::kString);
  return std::get<std::string>(data_);
}
std::string& Value::as_string() {
  if (!is_string()) throw_type(Type::kString);
  return std::get<std::string>(data_);
}
const Bytes& Value::as_bytes() const {
  if (!is_bytes()) throw_type(Type::kBytes);
  return std::get<Bytes>(data_);
}
Bytes& Value::as_bytes() {
  if (!is_bytes()) throw_type(Type::kBytes);
  return std::get<Bytes>(data_);
}
const Value::List& Value::as_list() const {
  if (!is_list()) throw_type(Type::kList);
  return std::get<List>(data_);
}
Value::List& Value::as_list() {
  if (!is_list()) throw_type(Type::kList);
  return std::get<List>(data_);
}
const Value::Map& Value::as_map() const {
  if (!is_map()) throw_type(Type::kMap);
  return std::get<MapBox>(data_).get();
}
Value::Map& Value::as_map() {
  if (!is_map()) throw_type(Type::kMap);
  return std::get<MapBox>(data_).get();
}

const Value& Value::at(size_t index) const { return as_list().at(index); }
const Value& Value::at(const std::string& key) const { return as_map().at(key); }

size_t Value::size() const {
  switch (type()) {
    case Type::kString:
      return as_string().size();
    case Type::kBytes:
      return as_bytes().size();
    case Type::kList:
      return as_list().size();
    case Type::kMap:
      return as_map().size();
    default:
      throw ValueTypeError(std::string("pergil::Value: size() of ") + type_name() +
                           ", which has none");
  }
}

bool operator==(const Value& a, const Value& b) { return a.data_ == b.data_; }

namespace {

void append_hex_escape(std::string& out, unsigned char c) {
  static const char digits[] = "0123456789abcdef";
  out += "\\x";
  out += digits[c >> 4];
  out += digits[c & 0xf];
}

// Quotes like Python's repr: single quotes, backslash escapes, control bytes as \xNN.
// In strings, bytes >= 0x80 (UTF-8 sequences) are kept; in bytes they are escaped.
void append_quoted(std::string& out, std::string_view text, bool is_bytes) {
  if (is_bytes) out += 'b';
  out += '\'';
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f || (is_bytes && c >= 0x80))
          append_hex_escape(out, c);
        else
          out += ch;
    }
  }
  out += '\'';
}

void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "nan";
    return;
  }
  if (std::isinf(d)) {
    out += d < 0 ? "-inf" : "inf";
    return;
  }
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);  // shortest round trip
  std::string_view text(buffer, ec == std::errc() ? end - buffer : 0);
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";  // 1.0, not 1
}

void append_text(std::string& out, const Value& v) {
  switch (v.type()) {
    case Value::Type::kNone:
      out += "None";
      break;
    case Value::Type::kBool:
      out += v.as_bool() ? "True" : "False";
      break;
    case Value::Type::kInt:
      out += std::to_string(v.as_int());
      break;
    case Value::Type::kDouble:
      append_double(out, v.as_double());
      break;
    case Value::Type::kString:
      append_quoted(out, v.as_string(), false);
      break;
    case Value::Type::kBytes: {
      const Bytes& b = v.as_bytes();
      append_quoted(out, {reinterpret_cast<const char*>(b.data()), b.size()}, true);
      break;
    }
    case Value::Type::kList: {
      out += '[';
      const char* separator = "";
      for (const Value& item : v.as_list()) {
        out += separator;
        append_text(out, item);
        separator = ", ";
      }
      out += ']';
      break;
    }
    case Value::Type::kMap: {
      out += '{';
      const char* separator = "";
      for (const auto& [key, item] : v.as_map()) {
        out += separator;
        append_quoted(out, key, false);
        out += ": ";
        append_text(out, item);
        separator = ", ";
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string Value::to_string() const {
  std::string out;
  append_text(out, *this);
  return out;
}

std::ostream& operator<<(std::ostream& out, const Value& value) { return out << value.to_string(); }

}  // namespace pergil
