// value.h: pergil::Value, the C++ form of the values passed to and returned from Python calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "pergil/export.h"

namespace pergil {

// Raw binary data: Python bytes (or bytearray, in results).
using Bytes = std::vector<std::byte>;

// One of: none, bool, int64, double, string (UTF-8), bytes, list of Values, map from string
// to Value. Maps to Python as None, bool, int, float, str, bytes, list, dict; Python tuples
// come back as lists and bytearrays as bytes.
// A Value owns its data (copies are deep); moving is O(1) and leaves the source none.
// Equality is typed and deep: Value(1) != Value(1.0), and NaN != NaN as in C++.
class PERGIL_API Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value>;
  enum class Type { kNone, kBool, kInt, kDouble, kString, kBytes, kList, kMap };

  Value() noexcept;
  Value(std::nullptr_t) noexcept;
  Value(bool b) noexcept;
  // Any integer type but bool and the character types. Throws std::out_of_range for an
  // unsigned value above INT64_MAX.
  template <class T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                 !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
                                 !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>,
                             int> = 0>
  Value(T i) : Value(checked_int(i), IntTag{}) {}
  Value(double d) noexcept;
  Value(const char* s);
  Value(std::string s) noexcept;
  Value(std::string_view s);
  Value(Bytes b) noexcept;
  Value(List l) noexcept;
  Value(Map m);

  // Bytes from raw memory or from the characters of a string.
  static Value bytes(const void* data, size_t size);
  static Value bytes(std::string_view raw);
  // Brace-friendly builders: Value::list({1, "a"}), Value::map({{"k", 1}}).
  static Value list(List items) noexcept;
  static Value map(Map items);

  Value(const Value& other);
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value();

  Type type() const noexcept;
  // "none", "bool", "int", "double", "string", "bytes", "list" or "map".
  const char* type_name() const noexcept;
  static const char* type_name(Type type) noexcept;
  bool is_none() const noexcept { return type() == Type::kNone; }
  bool is_bool() const noexcept { return type() == Type::kBool; }
  bool is_int() const noexcept { return type() == Type::kInt; }
  bool is_double() const noexcept { return type() == Type::kDouble; }
  bool is_string() const noexcept { return type() == Type::kString; }
  bool is_bytes() const noexcept { return type() == Type::kBytes; }
  bool is_list() const noexcept { return type() == Type::kList; }
  bool is_map() const noexcept { return type() == Type::kMap; }

  // Typed access; each throws ValueTypeError if the Value holds another type.
  bool as_bool() const;
  int64_t as_int() const;
  // Accepts an int too (converted), since Python code often returns 0 for 0.0.
  double as_double() const;
  const std::string& as_string() const;
  std::string& as_string();
  const Bytes& as_bytes() const;
  Bytes& as_bytes();
  const List& as_list() const;
  List& as_list();
  const Map& as_map() const;
  Map& as_map();

  // Element access on a list (bounds-checked) or a map (key must exist); std::out_of_range
  // if it does not, ValueTypeError if this is not a list or a map.
  const Value& at(size_t index) const;
  const Value& at(const std::string& key) const;
  // Number of elements of a list or a map, of bytes, or of characters (bytes) of a string.
  size_t size() const;

  // Readable, Python-like text: None, True, 42, 1.5, 'text', b'\x00', [1, 2], {'k': 1}.
  std::string to_string() const;

  friend PERGIL_API bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  // A deep-copying owner of a Map, so that Value holds no std::map of an incomplete type.
  class MapBox {
   public:
    explicit MapBox(Map map);
    MapBox(const MapBox& other);
    MapBox(MapBox&& other) noexcept = default;
    MapBox& operator=(const MapBox& other);
    MapBox& operator=(MapBox&& other) noexcept = default;
    ~MapBox();
    Map& get() { return *map_; }
    const Map& get() const { return *map_; }
    friend bool operator==(const MapBox& a, const MapBox& b) { return a.get() == b.get(); }

   private:
    std::unique_ptr<Map> map_;  // never null while a Value holds this box
  };
  using Storage =
      std::variant<std::monostate, bool, int64_t, double, std::string, Bytes, List, MapBox>;

  template <class T>
  static int64_t checked_int(T i) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (i > static_cast<T>(INT64_MAX)) throw_out_of_range();
    }
    return static_cast<int64_t>(i);
  }
  // The single constructor every integer goes through.
  struct IntTag {};
  Value(int64_t i, IntTag) noexcept;
  [[noreturn]] static void throw_out_of_range();
  [[noreturn]] void throw_type(Type wanted) const;

  Storage data_;
};

// Writes to_string().
PERGIL_API std::ostream& operator<<(std::ostream& out, const Value& value);

}  // namespace pergil
