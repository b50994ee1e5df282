// wire_marshal.cpp: pergil._core.marshal_plain: plain builtin data written as a marshal stream
// in one C walk that also checks it is plain (what plain_data + marshal.dumps did in two).
//
// The stream is marshal's version 4 format (Python/marshal.c), read back by marshal.loads:
// None N, False F, True T, int i (int32) or l (15-bit digits), float g, complex y, bytes s,
// str z/Z (ASCII, < 256), a/A (ASCII), u/t (UTF-8, surrogatepass), tuple ) or (, list [,
// dict { ... 0, set <, frozenset >; the capital forms and t mark interned strings, as marshal
// does. Strings, bytes and containers with other references get marshal's FLAG_REF and come
// back as refs (r), so sharing is kept; numbers are written again. Ints beyond 64 bits are
// handed to marshal.dumps itself. What is plain is exactly what plain_data accepts
// (wire_scan.cpp): cycles, deeper than 200, other types and big bytes give None.
//
// Contract: the caller holds the GIL of the value's interpreter. Nothing here runs Python code
// (no __hash__, __eq__ or __del__; the UTF-8 encoder is C; since 3.12 no allocation starts a
// GC pass), so no container changes during the walk and borrowed items stay alive.
// C API beyond the limited API: PyUnicode_IS_ASCII / DATA / GET_LENGTH and
// PyUnicode_CHECK_INTERNED (cpython/unicodeobject.h), present in 3.12 to 3.14.
#include <Python.h>
#include <marshal.h>  // after Python.h, which it needs

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "../engine/gil.h"
#include "core_module.h"

namespace pergil::python {

namespace {

using detail::Ref;

constexpr int kMaxDepth = 200;  // as plain_data: deeper values take pickle's path
constexpr Py_ssize_t kInt32Max = 0x7fffffff;
constexpr char kFlagRef = static_cast<char>(0x80);  // marshal's FLAG_REF

enum class Outcome { kWritten, kNotPlain, kToMarshal, kError };

// The stream being written, in a bytes object grown by doubling (_PyBytes_Resize, documented
// C API, in 3.12 to 3.14; the object has one reference, as it requires): the finished stream
// is that object, cut to size, with no copy of the whole at the end.
class StreamBuffer {
 public:
  StreamBuffer() = default;
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;
  ~StreamBuffer() { Py_XDECREF(bytes_); }

  // n writable bytes at the end, or nullptr with MemoryError set (then nothing changed).
  char* append(size_t n) {
    if (size_ + n > capacity_ && !grow(size_ + n)) return nullptr;
    char* at = PyBytes_AS_STRING(bytes_) + size_;
    size_ += n;
    return at;
  }
  // The stream as a bytes object (a new reference), or nullptr with an error set.
  PyObject* finish() {
    if (bytes_ == nullptr && !grow(1)) return nullptr;
    if (_PyBytes_Resize(&bytes_, static_cast<Py_ssize_t>(size_)) < 0) return nullptr;
    PyObject* bytes = bytes_;
    bytes_ = nullptr;
    return bytes;
  }

 private:
  bool grow(size_t needed) {
    size_t capacity = capacity_ == 0 ? size_t{1} << 16 : capacity_;
    while (capacity < needed) capacity *= 2;
    if (capacity > static_cast<size_t>(PY_SSIZE_T_MAX)) {
      PyErr_NoMemory();
      return false;
    }
    auto size = static_cast<Py_ssize_t>(capacity);
    if (bytes_ == nullptr) {
      bytes_ = PyBytes_FromStringAndSize(nullptr, size);
      if (bytes_ == nullptr) return false;
    } else if (_PyBytes_Resize(&bytes_, size) < 0) {
      return false;  // it freed the object and set bytes_ to NULL
    }
    capacity_ = capacity;
    return true;
  }
  PyObject* bytes_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Ref indexes of flagged objects: open addressing keyed by address, linear probing, kept at
// most half full. std::unordered_map allocated a node per object and made a column of shared
// strings 2.5x slower to write than marshal.dumps, whose table is of this kind too.
class RefTable {
 public:
  // The index already given to obj (>= 0), or -1 after giving it `index`.
  int32_t find_or_add(PyObject* obj, int32_t index) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    size_t slot = find(obj);
    if (slots_[slot].key == obj) return slots_[slot].index;
    slots_[slot] = {obj, index};
    ++count_;
    return -1;
  }

 private:
  struct Slot {
    PyObject* key = nullptr;
    int32_t index = 0;
  };
  size_t find(PyObject* obj) const {
    size_t mask = slots_.size() - 1;
    size_t slot = (reinterpret_cast<uintptr_t>(obj) >> 4) * 0x9E3779B97F4A7C15ULL & mask;
    while (slots_[slot].key != nullptr && slots_[slot].key != obj) slot = (slot + 1) & mask;
    return slot;
  }
  void grow() {
    std::vector<Slot> old(slots_.empty() ? 64 : 2 * slots_.size());
    old.swap(slots_);
    for (const Slot& entry : old) {
      if (entry.key != nullptr) slots_[find(entry.key)] = entry;
    }
  }
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

class PlainWriter {
 public:
  Outcome write(PyObject* obj, int depth) {
    PyTypeObject* type = Py_TYPE(obj);
    if (obj == Py_None) return put('N');
    if (type == &PyBool_Type) return put(obj == Py_True ? 'T' : 'F');
    // Numbers are written again where they repeat: a repeat costs about what a ref does.
    if (type == &PyLong_Type) return write_int(obj);
    if (type == &PyFloat_Type) return put_double('g', PyFloat_AS_DOUBLE(obj));
    if (type == &PyComplex_Type) {
      Py_complex value = PyComplex_AsCComplex(obj);
      char le[16];
      double_le(value.real, le);
      double_le(value.imag, le + 8);
      return put_coded('y', le);
    }
    bool container = type == &PyList_Type || type == &PyTuple_Type || type == &PyDict_Type ||
                     type == &PySet_Type || type == &PyFrozenSet_Type;
    if (!container && type != &PyUnicode_Type && type != &PyBytes_Type) return Outcome::kNotPlain;
    if (type == &PyBytes_Type &&  // a big one leaves the stream: pickle's path does that
        PyBytes_GET_SIZE(obj) >= static_cast<Py_ssize_t>(detail::kLoanThreshold)) {
      return Outcome::kNotPlain;
    }
    if (container && depth >= kMaxDepth) return Outcome::kNotPlain;
    // marshal's refs (w_ref): an object with other references is flagged the first time and
    // written as a ref (its index among flagged objects) when it comes back, so that shared
    // containers stay shared and a repeated string is one object in the caller.
    char flag = 0;
    if (Py_REFCNT(obj) > 1) {
      if (int32_t index = refs_.find_or_add(obj, next_ref_); index >= 0) {
        if (in_progress_.count(obj) != 0) return Outcome::kNotPlain;  // a cycle: pickle's job
        put('r');
        return put_int32(index);
      }
      if (next_ref_ == kInt32Max) return Outcome::kToMarshal;
      ++next_ref_;
      flag = kFlagRef;
    }
    if (type == &PyUnicode_Type) return write_str(obj, flag);
    if (type == &PyBytes_Type) {
      Py_ssize_t size = PyBytes_GET_SIZE(obj);
      put(static_cast<char>('s' | flag));
      put_int32(static_cast<int32_t>(size));
      return put_bytes(PyBytes_AS_STRING(obj), size);
    }
    if (flag) in_progress_.insert(obj);
    Outcome result = write_container(obj, type, depth + 1, flag);
    if (flag) in_progress_.erase(obj);
    return result;
  }

  StreamBuffer& out() { return out_; }
  bool failed() const { return failed_; }

 private:
  Outcome put(char code) {
    char* at = out_.append(1);
    if (at == nullptr) return no_memory();
    *at = code;
    return Outcome::kWritten;
  }
  // Not inlined: where the caller bounds the size (a short string, < 256), GCC expands an
  // inlined memcpy into `rep movsq`, whose start-up cost 3x the rest of writing the string;
  // out of line it calls libc's memcpy, fast at every size.
  [[gnu::noinline]] Outcome put_bytes(const char* data, Py_ssize_t size) {
    char* at = out_.append(static_cast<size_t>(size));
    if (at == nullptr) return no_memory();
    std::memcpy(at, data, static_cast<size_t>(size));
    return Outcome::kWritten;
  }
  // Callers go on after a failed put (most ignore its result); the walk's outcome is then
  // turned into the error by marshal_plain, through failed().
  Outcome no_memory() {  // the buffer has set MemoryError
    failed_ = true;
    return Outcome::kError;
  }
  // A type code and a fixed-size little-endian payload in one append (constant-size copies
  // compile to plain moves).
  template <size_t N>
  Outcome put_coded(char code, const char (&payload)[N]) {
    char* at = out_.append(N + 1);
    if (at == nullptr) return no_memory();
    at[0] = code;
    std::memcpy(at + 1, payload, N);
    return Outcome::kWritten;
  }
  static void int32_le(int32_t value, char* out) {
    auto bits = static_cast<uint32_t>(value);
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(bits >> (8 * i));
  }
  Outcome put_int32(int32_t value) {
    char le[4];
    int32_le(value, le);
    return put_bytes(le, 4);
  }
  // marshal's PyFloat_Pack8(value, le, 1). CPython requires IEEE 754 doubles (3.11+), so on
  // a little-endian machine those are the double's own bytes.
  static void double_le(double value, char* out) {
#if PY_LITTLE_ENDIAN
    std::memcpy(out, &value, 8);
#else
    PyFloat_Pack8(value, out, 1);
#endif
  }
  Outcome put_double(char code, double value) {
    char le[8];
    double_le(value, le);
    return put_coded(code, le);
  }
  Outcome write_int(PyObject* obj) {
    long long value;
    // Compact ints (one 30-bit digit: most ints) without a call; PyUnstable_Long_* is the
    // unstable API, in 3.12 to 3.14.
    if (PyUnstable_Long_IsCompact(reinterpret_cast<PyLongObject*>(obj))) {
      value = PyUnstable_Long_CompactValue(reinterpret_cast<PyLongObject*>(obj));
    } else {
      int overflow = 0;
      value = PyLong_AsLongLongAndOverflow(obj, &overflow);
      if (overflow != 0) return Outcome::kToMarshal;
      if (value == -1 && PyErr_Occurred()) return Outcome::kError;
    }
    if (value >= -kInt32Max - 1 && value <= kInt32Max) {
      char le[4];
      int32_le(static_cast<int32_t>(value), le);
      return put_coded('i', le);
    }
    unsigned long long magnitude =
        value < 0 ? 0ULL - static_cast<unsigned long long>(value) : value;
    uint16_t digits[5];  // 64 bits in 15-bit digits
    int count = 0;
    for (; magnitude != 0; magnitude >>= 15) digits[count++] = magnitude & 0x7fff;
    put('l');
    put_int32(value < 0 ? -count : count);
    for (int i = 0; i < count; ++i) {
      char le[2] = {static_cast<char>(digits[i]), static_cast<char>(digits[i] >> 8)};
      put_bytes(le, 2);
    }
    return Outcome::kWritten;
  }

  Outcome write_str(PyObject* obj, char flag) {
    bool interned = PyUnicode_CHECK_INTERNED(obj) != 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(obj);
    if (PyUnicode_IS_ASCII(obj)) {
      auto* data = static_cast<const char*>(PyUnicode_DATA(obj));
      if (length < 256) {
        put(static_cast<char>((interned ? 'Z' : 'z') | flag));
        put(static_cast<char>(length));
        return put_bytes(data, length);
      }
      if (length > kInt32Max) return Outcome::kToMarshal;
      put(static_cast<char>((interned ? 'A' : 'a') | flag));
      put_int32(static_cast<int32_t>(length));
      return put_bytes(data, length);
    }
    Ref utf8 = Ref::steal(PyUnicode_AsEncodedString(obj, "utf8", "surrogatepass"));
    if (!utf8) return Outcome::kError;
    Py_ssize_t size = PyBytes_GET_SIZE(utf8.get());
    if (size > kInt32Max) return Outcome::kToMarshal;
    put(static_cast<char>((interned ? 't' : 'u') | flag));
    put_int32(static_cast<int32_t>(size));
    return put_bytes(PyBytes_AS_STRING(utf8.get()), size);
  }

  Outcome write_container(PyObject* obj, PyTypeObject* type, int depth, char flag) {
    if (type == &PyList_Type || type == &PyTuple_Type) {
      bool list = type == &PyList_Type;
      Py_ssize_t size = list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
      if (size > kInt32Max) return Outcome::kToMarshal;  // marshal refuses it: pickle then
      if (!list && size < 256) {
        put(static_cast<char>(')' | flag));
        put(static_cast<char>(size));
      } else {
        put(static_cast<char>((list ? '[' : '(') | flag));
        put_int32(static_cast<int32_t>(size));
      }
      for (Py_ssize_t i = 0; i < size; ++i) {
        PyObject* item = list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);  // borrowed
        if (Outcome result = write(item, depth); result != Outcome::kWritten) return result;
      }
      return Outcome::kWritten;
    }
    if (type == &PyDict_Type) {
      put(static_cast<char>('{' | flag));
      Py_ssize_t position = 0;
      PyObject *key, *value;  // borrowed
      while (PyDict_Next(obj, &position, &key, &value)) {
        if (Outcome result = write(key, depth); result != Outcome::kWritten) return result;
        if (Outcome result = write(value, depth); result != Outcome::kWritten) return result;
      }
      return put('0');
    }
    Py_ssize_t size = PySet_GET_SIZE(obj);
    if (size > kInt32Max) return Outcome::kToMarshal;
    put(static_cast<char>((type == &PySet_Type ? '<' : '>') | flag));
    put_int32(static_cast<int32_t>(size));
    Ref iterator = Ref::steal(PyObject_GetIter(obj));  // C code that compares nothing
    if (!iterator) return Outcome::kError;
    while (Ref item = Ref::steal(PyIter_Next(iterator.get()))) {
      if (Outcome result = write(item.get(), depth); result != Outcome::kWritten) return result;
    }
    return PyErr_Occurred() ? Outcome::kError : Outcome::kWritten;
  }

  StreamBuffer out_;
  bool failed_ = false;
  RefTable refs_;                              // flagged objects -> their ref index
  std::unordered_set<PyObject*> in_progress_;  // flagged containers being written
  int32_t next_ref_ = 0;
};

PyObject* marshal_plain(PyObject* module, PyObject* obj) {
  PlainWriter writer;
  Outcome outcome = writer.write(obj, 0);
  if (writer.failed()) return nullptr;  // out of memory, error set
  switch (outcome) {
    case Outcome::kWritten:
      return writer.out().finish();
    case Outcome::kNotPlain:
      Py_RETURN_NONE;
    case Outcome::kError:
      return nullptr;
    case Outcome::kToMarshal:
      break;
  }
  // Ints beyond 64 bits (or 2**31 refs): marshal itself, if the whole value is plain.
  Ref plain = Ref::steal(plain_data(module, obj));
  if (!plain) return nullptr;
  if (plain.get() != Py_True) Py_RETURN_NONE;
  PyObject* stream = PyMarshal_WriteObjectToString(obj, 4);
  if (stream == nullptr && PyErr_ExceptionMatches(PyExc_ValueError)) {
    PyErr_Clear();  // e.g. 2**31 items or more: marshal's sizes are 32-bit; pickle then
    Py_RETURN_NONE;
  }
  return stream;
}

}  // namespace

PyMethodDef wire_marshal_methods[] = {
    {"marshal_plain", marshal_plain, METH_O,
     "marshal_plain(obj) -> bytes | None: a marshal stream of obj (marshal.loads reads it) if\n"
     "obj is plain data (see plain_data), else None; one C walk does the check and the write."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pergil::python
