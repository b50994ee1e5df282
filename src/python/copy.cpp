// copy.cpp: pergil._core.copy_bytes / copy_bytearray: a big bytes-like result in one copy, or none.
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "../engine/gil.h"
#include "core_module.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4  // Linux 5.7; older kernels answer EINVAL and we copy instead
#endif

namespace pergil::python {

namespace {

constexpr uintptr_t kPage = 4096;
// From this size on, a fresh destination asks for transparent huge pages: one fault per 2 MiB
// instead of per 4 KiB, which is most of the cost of a big copy on a VM (64 MiB: ~50 ms -> ~17).
constexpr size_t kHugePageCopy = 4u << 20;
// From this size on, moving pages is worth its two system calls and the mapping split.
constexpr size_t kMoveThreshold = 1u << 20;

std::atomic<uint64_t> moved_count{0};
std::atomic<uint64_t> copied_count{0};

uintptr_t page_up(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
}
uintptr_t page_down(const void* p) { return reinterpret_cast<uintptr_t>(p) & ~(kPage - 1); }

// Copies `size` bytes into the fresh (never touched) block `dst`. No other thread can see `dst`
// yet and the source is a read-only view the caller holds: the copy runs without the GIL.
void copy_into_fresh(char* dst, const char* src, size_t size) {
  detail::ReleasedGil released;
  uintptr_t start = page_up(dst), end = page_down(dst + size);
  // Advice only: where THP is off (or "never"), this fails and the copy faults 4 KiB pages.
  if (size >= kHugePageCopy && end > start)
    madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
  std::memcpy(dst, src, size);
  copied_count.fetch_add(1, std::memory_order_relaxed);
}

// Moves the whole pages of src[0, size) into dst[0, size), copying the partial pages at both
// ends; the source range reads as zeros afterwards. Contracts: `dst` is a fresh block of ours,
// `src` private memory nobody else reads (a movable loan), and both sit at the same offset in a
// page. Returns false, having changed nothing the caller can see, when the kernel refuses
// (older than 5.7, or a mapping mremap cannot move): the caller copies instead.
bool move_pages(char* dst, const char* src, size_t size) {
  uintptr_t first = page_up(src), last = page_down(src + size);
  if (last <= first || (reinterpret_cast<uintptr_t>(dst) & (kPage - 1)) !=
                           (reinterpret_cast<uintptr_t>(src) & (kPage - 1)))
    return false;
  size_t head = first - reinterpret_cast<uintptr_t>(src), middle = last - first;
  char* dst_middle = dst + head;
  void* moved = mremap(reinterpret_cast<void*>(first), middle, middle,
                       MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, dst_middle);
  if (moved == MAP_FAILED) {
    // Some kernels unmap the target before they check the source: map it back (it is the
    // interior of our own fresh block, so nothing else lives there) and report failure.
    mmap(dst_middle, middle, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
         0);
    return false;
  }
  std::memcpy(dst, src, head);
  std::memcpy(dst_middle + middle, src + head + middle, size - head - middle);
  moved_count.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Fills the fresh block `dst` from `view` and releases it. A SharedBuffer nobody else can read
// (a result the worker no longer references) gives its pages; anything else is copied.
void fill_from(PyTypeObject* shared_buffer_type, Py_buffer* view, char* dst) {
  const char* src = static_cast<const char*>(view->buf);
  size_t size = static_cast<size_t>(view->len);
  PyObject* source = view->obj;
  if (size >= kMoveThreshold && Py_TYPE(source) == shared_buffer_type) {
    // A SharedBuffer's memory stays put while the object lives (the caller holds it), so our
    // export can go first: it would make the buffer look read by someone else.
    PyBuffer_Release(view);
    if (movable_buffer(shared_buffer_type, source) != nullptr) {
      bool moved;
      {
        detail::ReleasedGil released;
        moved = move_pages(dst, src, size);
      }
      if (moved) return forget_memory(source);
    }
    return copy_into_fresh(dst, src, size);
  }
  copy_into_fresh(dst, src, size);  // `view` pins a bytearray's memory while the GIL is off
  PyBuffer_Release(view);
}

PyObject* copy_as(PyObject* module, PyObject* source, bool as_bytearray) {
  PyTypeObject* shared_buffer_type = module_state(module)->shared_buffer_type;
  Py_buffer view;
  if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) != 0) return nullptr;
  PyObject* out = as_bytearray ? PyByteArray_FromStringAndSize(nullptr, view.len)
                               : PyBytes_FromStringAndSize(nullptr, view.len);
  if (out == nullptr || view.len == 0) {
    PyBuffer_Release(&view);
    return out;
  }
  fill_from(shared_buffer_type, &view,
            as_bytearray ? PyByteArray_AS_STRING(out) : PyBytes_AS_STRING(out));
  return out;
}

PyObject* copy_bytes(PyObject* module, PyObject* source) { return copy_as(module, source, false); }
PyObject* copy_bytearray(PyObject* module, PyObject* source) {
  return copy_as(module, source, true);
}

PyObject* transfer_stats(PyObject*, PyObject*) {
  return Py_BuildValue("{sKsK}", "moved", static_cast<unsigned long long>(moved_count.load()),
                       "copied", static_cast<unsigned long long>(copied_count.load()));
}

}  // namespace

PyMethodDef core_methods[] = {
    {"copy_bytes", copy_bytes, METH_O,
     "copy_bytes(buffer) -> bytes: one copy made without the GIL, or none when `buffer` is a\n"
     "result's SharedBuffer nobody else can read: its pages are moved (it then reads empty)."},
    {"copy_bytearray", copy_bytearray, METH_O,
     "copy_bytearray(buffer) -> bytearray: as copy_bytes."},
    {"transfer_stats", transfer_stats, METH_NOARGS,
     "transfer_stats() -> {'moved': n, 'copied': n}: big bytes-like values rebuilt in this\n"
     "process by moving pages, and by copying, since it started."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pergil::python
