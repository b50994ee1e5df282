// wire_scan.cpp: pergil._core.plain_data and buffer_id: the C side of pergil/_wire.py's choice
// of format, so that no Python code runs per object of a result.
//
// plain_data(obj) says whether obj is made only of exact builtin data that marshal writes and
// reads back as pickle would (same types, values, sharing); such a value then crosses as a
// marshal stream, ~4x faster to write than pickle. A BufferFinder(delegate) is the pickler's
// persistent_id for everything else: None at once for an object that exports no buffer (or a
// small bytes/bytearray), delegate(obj) only for the rare object that might leave the stream.
#include <cstddef>
#include <unordered_map>

#include "../engine/gil.h"
#include "core_module.h"

namespace pergil::python {

namespace {

using detail::Ref;

// Deeper values take pickle's path (which has its own recursion limit): this bounds the C
// stack this scan uses, on any thread, whatever the value.
constexpr int kMaxDepth = 200;

// One scan of one value. Contract: the caller holds the GIL of the value's interpreter for the
// whole scan. The scan only reads types, sizes and items with C calls that run no Python code
// (no __hash__, __eq__, __del__; the one allocation, a set's iterator, cannot start a GC pass:
// since 3.12 the collector runs only from the eval loop), so no container can change under it
// and every borrowed item stays alive until the scan ends.
class PlainDataScan {
 public:
  // 1 = plain data, 0 = not (or too deep, or cyclic), -1 = error set.
  int plain(PyObject* obj, int depth) {
    PyTypeObject* type = Py_TYPE(obj);
    if (obj == Py_None || type == &PyLong_Type || type == &PyFloat_Type ||
        type == &PyUnicode_Type || type == &PyBool_Type || type == &PyComplex_Type) {
      return 1;
    }
    if (type == &PyBytes_Type) {  // a big one leaves the stream: pickle's path does that
      return PyBytes_GET_SIZE(obj) < static_cast<Py_ssize_t>(detail::kLoanThreshold) ? 1 : 0;
    }
    if (type != &PyList_Type && type != &PyTuple_Type && type != &PyDict_Type &&
        type != &PySet_Type && type != &PyFrozenSet_Type) {
      return 0;
    }
    if (depth >= kMaxDepth) return 0;
    // A container with one reference has one parent, which is scanned once: only shared ones
    // can come back, and they are scanned once each (no exponential walk of a shared DAG).
    if (Py_REFCNT(obj) == 1) return items_plain(obj, depth + 1);
    auto [entry, inserted] = shared_.try_emplace(obj, false);
    if (!inserted) return entry->second ? 1 : 0;  // still being scanned: a cycle, pickle's job
    int result = items_plain(obj, depth + 1);
    if (result == 1) shared_[obj] = true;  // re-looked up: the map may have rehashed
    return result;
  }

 private:
  int items_plain(PyObject* obj, int depth) {
    PyTypeObject* type = Py_TYPE(obj);
    if (type == &PyList_Type || type == &PyTuple_Type) {
      bool list = type == &PyList_Type;
      Py_ssize_t size = list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
      for (Py_ssize_t i = 0; i < size; ++i) {
        PyObject* item = list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);  // borrowed
        if (int result = plain(item, depth); result != 1) return result;
      }
      return 1;
    }
    if (type == &PyDict_Type) {
      Py_ssize_t position = 0;
      PyObject *key, *value;  // borrowed
      while (PyDict_Next(obj, &position, &key, &value)) {
        if (int result = plain(key, depth); result != 1) return result;
        if (int result = plain(value, depth); result != 1) return result;
      }
      return 1;
    }
    // A set: its iterator is C code and compares nothing.
    Ref iterator = Ref::steal(PyObject_GetIter(obj));
    if (!iterator) return -1;
    while (Ref item = Ref::steal(PyIter_Next(iterator.get()))) {
      if (int result = plain(item.get(), depth); result != 1) return result;
    }
    return PyErr_Occurred() ? -1 : 1;
  }

  std::unordered_map<PyObject*, bool> shared_;  // shared container -> scanned to the end
};

// Whether obj may leave a pickle stream as a buffer: it exports one, and is not a bytes or
// bytearray below the loan threshold. Most objects of a result answer no in a few loads.
bool buffer_candidate(PyObject* obj) {
  if (!PyObject_CheckBuffer(obj)) return false;
  constexpr auto threshold = static_cast<Py_ssize_t>(detail::kLoanThreshold);
  if (PyBytes_CheckExact(obj)) return PyBytes_GET_SIZE(obj) >= threshold;
  if (PyByteArray_CheckExact(obj)) return PyByteArray_GET_SIZE(obj) >= threshold;
  return true;
}

// buffer_id(delegate, obj): delegate(obj) for a candidate, else None (for tests and tools).
PyObject* buffer_id(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "buffer_id(delegate, obj) takes exactly 2 arguments");
    return nullptr;
  }
  if (!buffer_candidate(args[1])) Py_RETURN_NONE;
  return PyObject_CallOneArg(args[0], args[1]);
}

// BufferFinder(delegate): a pickler's persistent_id. The C pickler calls it for every object
// it writes, through vectorcall: the common answer (None) costs no Python call and no
// argument packing; delegate(obj) decides for candidates, exactly as the Python rule did.
struct BufferFinder {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* delegate;
};

PyObject* finder_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != nullptr && PyTuple_GET_SIZE(kwnames))) {
    PyErr_SetString(PyExc_TypeError, "a BufferFinder takes exactly one argument");
    return nullptr;
  }
  if (!buffer_candidate(args[0])) Py_RETURN_NONE;
  return PyObject_CallOneArg(reinterpret_cast<BufferFinder*>(self)->delegate, args[0]);
}

PyObject* finder_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  PyObject* delegate;
  static const char* keywords[] = {"delegate", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:BufferFinder", const_cast<char**>(keywords),
                                   &delegate)) {
    return nullptr;
  }
  if (!PyCallable_Check(delegate)) {
    PyErr_SetString(PyExc_TypeError, "BufferFinder(delegate): delegate must be callable");
    return nullptr;
  }
  // tp_alloc of a heap type with Py_TPFLAGS_HAVE_GC: zeroed, and holds a reference to `type`.
  auto* finder = reinterpret_cast<BufferFinder*>(type->tp_alloc(type, 0));
  if (finder == nullptr) return nullptr;
  finder->vectorcall = finder_call;
  finder->delegate = Py_NewRef(delegate);
  return reinterpret_cast<PyObject*>(finder);
}

int finder_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));  // a heap type's instances keep their type alive
  Py_VISIT(reinterpret_cast<BufferFinder*>(self)->delegate);
  return 0;
}

int finder_clear(PyObject* self) {
  Py_CLEAR(reinterpret_cast<BufferFinder*>(self)->delegate);
  return 0;
}

void finder_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);  // before clearing: the collector must not see a half-freed object
  finder_clear(self);
  type->tp_free(self);
  Py_DECREF(type);  // the reference tp_alloc took for the instance
}

PyMemberDef finder_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(BufferFinder, vectorcall), Py_READONLY,
     nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot finder_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(finder_new)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_traverse, reinterpret_cast<void*>(finder_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(finder_clear)},
    {Py_tp_dealloc, reinterpret_cast<void*>(finder_dealloc)},
    {Py_tp_members, finder_members},
    {Py_tp_doc, const_cast<char*>("BufferFinder(delegate): a pickler's persistent_id; "
                                  "delegate(obj) for objects that may leave the stream as a "
                                  "buffer, else None.")},
    {0, nullptr},
};

}  // namespace

PyObject* plain_data(PyObject*, PyObject* obj) {
  int result = PlainDataScan().plain(obj, 0);
  if (result < 0) return nullptr;
  return PyBool_FromLong(result);
}

PyType_Spec buffer_finder_spec = {
    "pergil._core.BufferFinder",
    sizeof(BufferFinder),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_IMMUTABLETYPE,
    finder_slots,
};

PyMethodDef wire_methods[] = {
    {"plain_data", plain_data, METH_O,
     "plain_data(obj) -> bool: obj is made only of exact None, bool, int, float, complex, str, "
     "small bytes, tuple, list, dict, set and frozenset, without cycles, nested at most 200 "
     "deep: marshal then writes it as pickle would."},
    {"buffer_id", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(buffer_id)),
     METH_FASTCALL,
     "buffer_id(delegate, obj) -> delegate(obj) for objects that may leave a pickle stream as "
     "a buffer, else None."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pergil::python
