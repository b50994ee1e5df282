// shared_buffer.cpp: pergil._core.SharedBuffer, a read-only view over memory of any interpreter.
#include <new>

#include "core_module.h"

namespace pergil::python {

namespace {

struct SharedBufferObject {
  PyObject_HEAD detail::Buffer
      buffer;  // keeps the memory alive; may release a loan in another interpreter
  Py_ssize_t exports;
  uint64_t generation;  // fork_generation() at creation
};

int shared_buffer_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  auto* obj = reinterpret_cast<SharedBufferObject*>(self);
  if (flags & PyBUF_WRITABLE) {
    PyErr_SetString(PyExc_BufferError, "pergil.SharedBuffer is read-only");
    return -1;
  }
  int rc = PyBuffer_FillInfo(view, self, const_cast<char*>(obj->buffer.data),
                             static_cast<Py_ssize_t>(obj->buffer.size), /*readonly=*/1, flags);
  if (rc == 0) ++obj->exports;
  return rc;
}

void shared_buffer_releasebuffer(PyObject* self, Py_buffer*) {
  --reinterpret_cast<SharedBufferObject*>(self)->exports;
}

PyObject* shared_buffer_nbytes(PyObject* self, void*) {
  return PyLong_FromSize_t(reinterpret_cast<SharedBufferObject*>(self)->buffer.size);
}

void shared_buffer_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* obj = reinterpret_cast<SharedBufferObject*>(self);
  auto& buffer = obj->buffer;
  if (obj->generation != fork_generation())
    new detail::Buffer(std::move(buffer));  // leaked: see fork_generation()
  buffer.~Buffer();
  type->tp_free(self);
  Py_DECREF(type);  // heap type instances own a reference to their type
}

PyGetSetDef shared_buffer_getset[] = {
    {"nbytes", shared_buffer_nbytes, nullptr, "Size of the memory in bytes.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot shared_buffer_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(shared_buffer_getbuffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(shared_buffer_releasebuffer)},
    {Py_tp_dealloc, reinterpret_cast<void*>(shared_buffer_dealloc)},
    {Py_tp_getset, shared_buffer_getset},
    {Py_tp_doc, const_cast<char*>("Read-only memory lent by another interpreter, or copied.")},
    {0, nullptr},
};

}  // namespace

PyType_Spec shared_buffer_spec = {
    "pergil._core.SharedBuffer",
    sizeof(SharedBufferObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    shared_buffer_slots,
};

detail::Buffer* movable_buffer(PyTypeObject* type, PyObject* obj) {
  if (Py_TYPE(obj) != type) return nullptr;
  auto* self = reinterpret_cast<SharedBufferObject*>(obj);
  detail::Buffer& buffer = self->buffer;
  bool alone = self->exports == 0 && buffer.keeper.use_count() == 1;
  if (!alone || buffer.loan == nullptr || self->generation != fork_generation()) return nullptr;
  return buffer.loan->movable.load(std::memory_order_acquire) ? &buffer : nullptr;
}

void forget_memory(PyObject* obj) {
  detail::Buffer& buffer = reinterpret_cast<SharedBufferObject*>(obj)->buffer;
  buffer.data = nullptr;  // its pages were moved out: it reads as empty from now on
  buffer.size = 0;
}

PyObject* wrap_buffer(PyTypeObject* type, detail::Buffer buffer) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  auto* obj = reinterpret_cast<SharedBufferObject*>(self);
  new (&obj->buffer) detail::Buffer(std::move(buffer));
  obj->exports = 0;
  obj->generation = fork_generation();
  return self;
}

}  // namespace pergil::python
