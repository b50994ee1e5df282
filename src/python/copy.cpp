// copy.cpp: pergil._core.copy_bytes / copy_bytearray, the one copy a big bytes-like result needs.
#include <sys/mman.h>

#include <cstdint>
#include <cstring>

#include "../engine/gil.h"
#include "core_module.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and we fault as usual
#endif

namespace pergil::python {

namespace {

// Copies `size` bytes into fresh memory. The destination is a new malloc block (mmap'ed at
// these sizes): populating its pages in one call costs less than a page fault per 4 KiB, which
// dominates such a copy on a VM. No other thread can see `dst` yet, and the source is a
// read-only view held by the caller: the copy runs without the GIL.
void copy_into_fresh(char* dst, const char* src, size_t size) {
  detail::ReleasedGil released;
  const uintptr_t page = 4096;
  uintptr_t start = (reinterpret_cast<uintptr_t>(dst) + page - 1) & ~(page - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(dst) + size) & ~(page - 1);
  if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE);
  std::memcpy(dst, src, size);
}

PyObject* copy_as(PyObject* source, bool as_bytearray) {
  Py_buffer view;
  if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) != 0) return nullptr;
  PyObject* out = as_bytearray ? PyByteArray_FromStringAndSize(nullptr, view.len)
                               : PyBytes_FromStringAndSize(nullptr, view.len);
  if (out != nullptr && view.len > 0) {
    char* dst = as_bytearray ? PyByteArray_AS_STRING(out) : PyBytes_AS_STRING(out);
    copy_into_fresh(dst, static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  }
  PyBuffer_Release(&view);
  return out;
}

PyObject* copy_bytes(PyObject*, PyObject* source) { return copy_as(source, false); }
PyObject* copy_bytearray(PyObject*, PyObject* source) { return copy_as(source, true); }

}  // namespace

PyMethodDef core_methods[] = {
    {"copy_bytes", copy_bytes, METH_O,
     "copy_bytes(buffer) -> bytes: one copy, made without the GIL."},
    {"copy_bytearray", copy_bytearray, METH_O,
     "copy_bytearray(buffer) -> bytearray: one copy, made without the GIL."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pergil::python
