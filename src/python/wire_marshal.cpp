// wire_marshal.cpp: pergil._core.marshal_plain: plain builtin data written as a marshal stream
// in one C walk that also checks it is plain (what plain_data + marshal.dumps did in two).
//
// The stream is marshal's version 4 format (Python/marshal.c), read back by marshal.loads:
// None N, False F, True T, int i (int32) or l (15-bit digits), float g, complex y, bytes s,
// str z/Z (ASCII, < 256), a/A (ASCII), u/t (UTF-8, surrogatepass), tuple ) or (, list [,
// dict { ... 0, set <, frozenset >; the capital forms and t mark interned strings, as marshal
// does. It never sets FLAG_REF: a container referenced twice in the value would arrive as two
// copies, so that case (and ints beyond 64 bits) is handed to marshal.dumps itself, which
// keeps sharing. What is plain is exactly what plain_data accepts (wire_scan.cpp).
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

#include "../engine/gil.h"
#include "core_module.h"

namespace pergil::python {

namespace {

using detail::Ref;

constexpr int kMaxDepth = 200;  // as plain_data: deeper values take pickle's path
constexpr Py_ssize_t kInt32Max = 0x7fffffff;

enum class Outcome { kWritten, kNotPlain, kToMarshal, kError };

class PlainWriter {
 public:
  Outcome write(PyObject* obj, int depth) {
    PyTypeObject* type = Py_TYPE(obj);
    if (obj == Py_None) return put('N');
    if (type == &PyBool_Type) return put(obj == Py_True ? 'T' : 'F');
    if (type == &PyLong_Type) return write_int(obj);
    if (type == &PyFloat_Type) {
      put('g');
      return put_double(PyFloat_AS_DOUBLE(obj));
    }
    if (type == &PyComplex_Type) {
      Py_complex value = PyComplex_AsCComplex(obj);
      put('y');
      if (put_double(value.real) != Outcome::kWritten) return Outcome::kError;
      return put_double(value.imag);
    }
    if (type == &PyUnicode_Type) return write_str(obj);
    if (type == &PyBytes_Type) {
      Py_ssize_t size = PyBytes_GET_SIZE(obj);
      if (size >= static_cast<Py_ssize_t>(detail::kLoanThreshold)) return Outcome::kNotPlain;
      put('s');
      put_int32(static_cast<int32_t>(size));
      return put_bytes(PyBytes_AS_STRING(obj), size);
    }
    if (type != &PyList_Type && type != &PyTuple_Type && type != &PyDict_Type &&
        type != &PySet_Type && type != &PyFrozenSet_Type) {
      return Outcome::kNotPlain;
    }
    if (depth >= kMaxDepth) return Outcome::kNotPlain;
    // A container with other references may come back (shared, or a cycle): written once
    // here, the second time it is marshal.dumps' job (refs), or pickle's (cycles).
    if (Py_REFCNT(obj) > 1 && !seen_.insert(obj).second) return Outcome::kToMarshal;
    return write_container(obj, type, depth + 1);
  }

  std::string& out() { return out_; }

 private:
  Outcome put(char code) {
    out_.push_back(code);
    return Outcome::kWritten;
  }
  Outcome put_bytes(const char* data, Py_ssize_t size) {
    out_.append(data, static_cast<size_t>(size));
    return Outcome::kWritten;
  }
  Outcome put_int32(int32_t value) {
    auto bits = static_cast<uint32_t>(value);
    char le[4] = {static_cast<char>(bits), static_cast<char>(bits >> 8),
                  static_cast<char>(bits >> 16), static_cast<char>(bits >> 24)};
    return put_bytes(le, 4);
  }
  Outcome put_double(double value) {
    char le[8];
    if (PyFloat_Pack8(value, le, 1) < 0) return Outcome::kError;  // little-endian, as marshal
    return put_bytes(le, 8);
  }

  // i for int32 values; l with base-2**15 digits, least significant first, the count signed
  // by the value's sign (marshal's w_PyLong) up to 64 bits; bigger ones go to marshal.dumps.
  Outcome write_int(PyObject* obj) {
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow != 0) return Outcome::kToMarshal;
    if (value == -1 && PyErr_Occurred()) return Outcome::kError;
    if (value >= -kInt32Max - 1 && value <= kInt32Max) {
      put('i');
      return put_int32(static_cast<int32_t>(value));
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

  Outcome write_str(PyObject* obj) {
    bool interned = PyUnicode_CHECK_INTERNED(obj) != 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(obj);
    if (PyUnicode_IS_ASCII(obj)) {
      auto* data = static_cast<const char*>(PyUnicode_DATA(obj));
      if (length < 256) {
        put(interned ? 'Z' : 'z');
        put(static_cast<char>(length));
        return put_bytes(data, length);
      }
      if (length > kInt32Max) return Outcome::kToMarshal;
      put(interned ? 'A' : 'a');
      put_int32(static_cast<int32_t>(length));
      return put_bytes(data, length);
    }
    Ref utf8 = Ref::steal(PyUnicode_AsEncodedString(obj, "utf8", "surrogatepass"));
    if (!utf8) return Outcome::kError;
    Py_ssize_t size = PyBytes_GET_SIZE(utf8.get());
    if (size > kInt32Max) return Outcome::kToMarshal;
    put(interned ? 't' : 'u');
    put_int32(static_cast<int32_t>(size));
    return put_bytes(PyBytes_AS_STRING(utf8.get()), size);
  }

  Outcome write_container(PyObject* obj, PyTypeObject* type, int depth) {
    if (type == &PyList_Type || type == &PyTuple_Type) {
      bool list = type == &PyList_Type;
      Py_ssize_t size = list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
      if (size > kInt32Max) return Outcome::kToMarshal;  // marshal refuses it: pickle then
      if (!list && size < 256) {
        put(')');
        put(static_cast<char>(size));
      } else {
        put(list ? '[' : '(');
        put_int32(static_cast<int32_t>(size));
      }
      for (Py_ssize_t i = 0; i < size; ++i) {
        PyObject* item = list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);  // borrowed
        if (Outcome result = write(item, depth); result != Outcome::kWritten) return result;
      }
      return Outcome::kWritten;
    }
    if (type == &PyDict_Type) {
      put('{');
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
    put(type == &PySet_Type ? '<' : '>');
    put_int32(static_cast<int32_t>(size));
    Ref iterator = Ref::steal(PyObject_GetIter(obj));  // C code that compares nothing
    if (!iterator) return Outcome::kError;
    while (Ref item = Ref::steal(PyIter_Next(iterator.get()))) {
      if (Outcome result = write(item.get(), depth); result != Outcome::kWritten) return result;
    }
    return PyErr_Occurred() ? Outcome::kError : Outcome::kWritten;
  }

  std::string out_;
  std::unordered_set<PyObject*> seen_;
};

PyObject* marshal_plain(PyObject* module, PyObject* obj) {
  PlainWriter writer;
  writer.out().reserve(1 << 16);
  switch (writer.write(obj, 0)) {
    case Outcome::kWritten:
      return PyBytes_FromStringAndSize(writer.out().data(),
                                       static_cast<Py_ssize_t>(writer.out().size()));
    case Outcome::kNotPlain:
      Py_RETURN_NONE;
    case Outcome::kError:
      return nullptr;
    case Outcome::kToMarshal:
      break;
  }
  // Shared containers or big ints: marshal itself, if the whole value is plain.
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
