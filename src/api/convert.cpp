// convert.cpp: pergil::Value to Python objects and back, with the failing path in error messages.
#include "convert.h"

#include <utility>

#include "engine/gil.h"

namespace pergil::detail {

namespace {

// Where a conversion is, as "args[0]['key'][3]": extended while descending, cut on return.
class Path {
 public:
  explicit Path(const char* root) : text_(root) {}
  size_t push_index(size_t i) {
    size_t mark = text_.size();
    text_ += '[' + std::to_string(i) + ']';
    return mark;
  }
  size_t push_key(const std::string& key) {
    size_t mark = text_.size();
    text_ += "['" + key + "']";
    return mark;
  }
  void pop(size_t mark) { text_.resize(mark); }
  const char* c_str() const { return text_.c_str(); }

 private:
  std::string text_;
};

PyObject* too_deep(const Path& path) {
  PyErr_Format(PyExc_RecursionError, "%s is nested deeper than %d levels", path.c_str(),
               kMaxNesting);
  return nullptr;
}

PyObject* to_str(const std::string& text, const Path& path) {
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr);
  if (s == nullptr && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError,
                 "%s: string is not valid UTF-8 (binary data goes in pergil::Bytes)", path.c_str());
  }
  return s;
}

PyObject* convert_to(const Value& v, Path& path, int depth);

PyObject* list_to(const Value::List& items, Path& path, int depth) {
  Ref list = Ref::steal(PyList_New(static_cast<Py_ssize_t>(items.size())));
  if (!list) return nullptr;
  for (size_t i = 0; i < items.size(); ++i) {
    size_t mark = path.push_index(i);
    PyObject* item = convert_to(items[i], path, depth + 1);
    if (item == nullptr) return nullptr;
    path.pop(mark);
    PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(i), item);  // steals item
  }
  return list.release();
}

PyObject* map_to(const Value::Map& items, Path& path, int depth) {
  Ref dict = Ref::steal(PyDict_New());
  if (!dict) return nullptr;
  for (const auto& [key, value] : items) {
    size_t mark = path.push_key(key);
    Ref k = Ref::steal(to_str(key, path));
    Ref item = k ? Ref::steal(convert_to(value, path, depth + 1)) : Ref();
    if (!item || PyDict_SetItem(dict.get(), k.get(), item.get()) != 0) return nullptr;
    path.pop(mark);
  }
  return dict.release();
}

PyObject* convert_to(const Value& v, Path& path, int depth) {
  if (depth > kMaxNesting) return too_deep(path);
  switch (v.type()) {
    case Value::Type::kNone:
      Py_RETURN_NONE;
    case Value::Type::kBool:
      return PyBool_FromLong(v.as_bool());
    case Value::Type::kInt:
      return PyLong_FromLongLong(v.as_int());
    case Value::Type::kDouble:
      return PyFloat_FromDouble(v.as_double());
    case Value::Type::kString:
      return to_str(v.as_string(), path);
    case Value::Type::kBytes: {
      const Bytes& b = v.as_bytes();
      return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(b.data()),
                                       static_cast<Py_ssize_t>(b.size()));
    }
    case Value::Type::kList:
      return list_to(v.as_list(), path, depth);
    case Value::Type::kMap:
      return map_to(v.as_map(), path, depth);
  }
  PyErr_SetString(PyExc_SystemError, "pergil::Value of an unknown type");
  return nullptr;
}

// Python objects to Values. Runs no Python code, so borrowed items of lists, tuples and dicts
// stay valid while they are read.
class FromPython {
 public:
  explicit FromPython(const char* root) : path_(root) {}

  bool convert(PyObject* obj, Value* out, int depth) {
    if (depth > kMaxNesting) {
      too_deep(path_);
      return false;
    }
    if (obj == Py_None) {
      *out = Value();
    } else if (PyBool_Check(obj)) {
      *out = Value(obj == Py_True);
    } else if (PyLong_Check(obj)) {
      return integer(obj, out);
    } else if (PyFloat_Check(obj)) {
      *out = Value(PyFloat_AS_DOUBLE(obj));
    } else if (PyUnicode_Check(obj)) {
      return text(obj, out);
    } else if (PyBytes_Check(obj)) {
      *out = Value::bytes(PyBytes_AS_STRING(obj), static_cast<size_t>(PyBytes_GET_SIZE(obj)));
    } else if (PyByteArray_Check(obj)) {
      *out =
          Value::bytes(PyByteArray_AS_STRING(obj), static_cast<size_t>(PyByteArray_GET_SIZE(obj)));
    } else if (PyList_Check(obj) || PyTuple_Check(obj)) {
      return sequence(obj, out, depth);
    } else if (PyDict_Check(obj)) {
      return dict(obj, out, depth);
    } else {
      std::string type = type_full_name(Py_TYPE(obj));
      PyErr_Format(PyExc_TypeError,
                   "%s: cannot convert an object of type '%s' to pergil::Value (supported: "
                   "None, bool, int, float, str, bytes, bytearray, list, tuple, dict with str "
                   "keys)",
                   path_.c_str(), type.c_str());
      return false;
    }
    return true;
  }

 private:
  bool integer(PyObject* obj, Value* out) {
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow != 0) {
      PyErr_Format(PyExc_OverflowError, "%s: int does not fit in pergil::Value's int64",
                   path_.c_str());
      return false;
    }
    if (i == -1 && PyErr_Occurred()) return false;
    *out = Value(static_cast<int64_t>(i));
    return true;
  }

  bool utf8(PyObject* obj, std::string* out) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(obj, &size);
    if (data == nullptr) {
      PyErr_Clear();
      PyErr_Format(PyExc_ValueError, "%s: str holds lone surrogates, it cannot be UTF-8",
                   path_.c_str());
      return false;
    }
    out->assign(data, static_cast<size_t>(size));
    return true;
  }

  bool text(PyObject* obj, Value* out) {
    std::string s;
    if (!utf8(obj, &s)) return false;
    *out = Value(std::move(s));
    return true;
  }

  bool sequence(PyObject* obj, Value* out, int depth) {
    bool is_list = PyList_Check(obj);
    Py_ssize_t n = is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
    Value::List items(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* item = is_list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);
      size_t mark = path_.push_index(static_cast<size_t>(i));
      if (!convert(item, &items[static_cast<size_t>(i)], depth + 1)) return false;
      path_.pop(mark);
    }
    *out = Value(std::move(items));
    return true;
  }

  bool dict(PyObject* obj, Value* out, int depth) {
    Value::Map items;
    Py_ssize_t position = 0;
    PyObject *key, *item;
    while (PyDict_Next(obj, &position, &key, &item)) {
      std::string k;
      if (!PyUnicode_Check(key)) {
        std::string type = type_full_name(Py_TYPE(key));
        PyErr_Format(PyExc_TypeError, "%s: a dict key of type '%s' is not str", path_.c_str(),
                     type.c_str());
        return false;
      }
      if (!utf8(key, &k)) return false;
      size_t mark = path_.push_key(k);
      Value v;
      if (!convert(item, &v, depth + 1)) return false;
      path_.pop(mark);
      items.emplace(std::move(k), std::move(v));
    }
    *out = Value(std::move(items));
    return true;
  }

  Path path_;
};

}  // namespace

PyObject* to_python(const Value& value, const char* root) {
  Path path(root);
  return convert_to(value, path, 0);
}

PyObject* to_python_args(const std::vector<Value>& args) {
  Ref tuple = Ref::steal(PyTuple_New(static_cast<Py_ssize_t>(args.size())));
  if (!tuple) return nullptr;
  Path path("args");
  for (size_t i = 0; i < args.size(); ++i) {
    size_t mark = path.push_index(i);
    PyObject* item = convert_to(args[i], path, 1);
    if (item == nullptr) return nullptr;
    path.pop(mark);
    PyTuple_SET_ITEM(tuple.get(), static_cast<Py_ssize_t>(i), item);  // steals item
  }
  return tuple.release();
}

bool from_python(PyObject* obj, Value* out, const char* root) {
  return FromPython(root).convert(obj, out, 0);
}

std::string type_full_name(PyTypeObject* type) {
  Ref module = Ref::steal(PyObject_GetAttrString(reinterpret_cast<PyObject*>(type), "__module__"));
  Ref qualname = Ref::steal(PyType_GetQualName(type));
  const char* m =
      module && PyUnicode_Check(module.get()) ? PyUnicode_AsUTF8(module.get()) : nullptr;
  const char* q = qualname ? PyUnicode_AsUTF8(qualname.get()) : nullptr;
  PyErr_Clear();
  if (q == nullptr) return type->tp_name;
  if (m == nullptr || std::string_view(m) == "builtins") return q;
  return std::string(m) + "." + q;
}

}  // namespace pergil::detail
