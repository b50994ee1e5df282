// copy.cpp: pergil._core.copy_bytes/_bytearray/_array: a big buffer value in one copy, or none.
#include <sys/mman.h>
#if defined(__GLIBC__)
#include <malloc.h>  // malloc_trim
#endif

#include <atomic>
#include <cstdint>
#include <cstring>

#include "../engine/gil.h"
#include "core_module.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL: memcpy faults instead
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4  // Linux 5.7; older kernels answer EINVAL and we copy instead
#endif

namespace pergil::python {

namespace {

using detail::Ref;

constexpr uintptr_t kPage = 4096;
// From this size on, a fresh destination asks for transparent huge pages and populates them
// before the copy. Measured on this VM (64 MiB, fresh process each time): 4 KiB faults during
// memcpy ~29 ms; huge pages faulted by memcpy itself 120-145 ms (each fault stalls on its own
// 2 MiB); huge pages populated in one MADV_POPULATE_WRITE call, then memcpy: ~11 ms, steady.
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
  // Advice only: where THP is off (or "never") the first call fails and the pages are 4 KiB;
  // on kernels before 5.14 the second fails and memcpy faults the pages in as it goes.
  if (size >= kHugePageCopy && end > start) {
    madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
    madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE);
  }
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

// The object layout of array.array (Modules/arraymodule.c, the same from 3.3 to 3.13). It is
// not a public API: array_layout_matches checks it on a live array before anything is written.
struct ArrayLayout {
  PyObject_VAR_HEAD char* ob_item;  // PyMem_Malloc'ed by the owning interpreter; PyMem_Free'd
  Py_ssize_t allocated;             // by its dealloc and resized with PyMem_Realloc
  const void* ob_descr;
  PyObject* weakreflist;
  Py_ssize_t ob_exports;
};

// True if `arr` (an array.array of one or more items, no export alive) is laid out as
// ArrayLayout: the buffer it exports is ob_item, its export counter moves with the export.
bool array_layout_matches(PyObject* arr) {
  if (Py_TYPE(arr)->tp_basicsize != static_cast<Py_ssize_t>(sizeof(ArrayLayout))) return false;
  auto* fields = reinterpret_cast<ArrayLayout*>(arr);
  Py_buffer view;
  if (PyObject_GetBuffer(arr, &view, PyBUF_SIMPLE) != 0) return false;
  bool matches = fields->ob_item == view.buf && fields->ob_exports == 1 &&
                 fields->allocated >= Py_SIZE(arr) && Py_SIZE(arr) > 0 &&
                 view.len == Py_SIZE(arr) * view.itemsize;
  PyBuffer_Release(&view);
  return matches && fields->ob_exports == 0;
}

// arr.frombytes(source[skip:]): the ordinary path, one copy through a view (no temporary).
PyObject* extend_array(PyObject* arr, PyObject* source, Py_ssize_t skip) {
  Ref view = Ref::steal(PyMemoryView_FromObject(source));
  Ref rest = view ? Ref::steal(PySequence_GetSlice(view.get(), skip, PY_SSIZE_T_MAX)) : Ref();
  return rest ? PyObject_CallMethod(arr, "frombytes", "O", rest.get()) : nullptr;
}

// Fills the empty array.array `arr` from `source` in one copy or none: a fresh block of this
// interpreter's PyMem_Malloc, filled as bytes are, becomes its storage. Where the layout check
// fails (another CPython), or for small or ragged sources, array.frombytes does it instead.
PyObject* fill_array(PyTypeObject* shared_buffer_type, PyObject* arr, PyObject* source) {
  Ref itemsize_obj = Ref::steal(PyObject_GetAttrString(arr, "itemsize"));
  Py_ssize_t itemsize = itemsize_obj ? PyLong_AsSsize_t(itemsize_obj.get()) : -1;
  if (itemsize <= 0) return nullptr;
  Py_buffer view;
  if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) != 0) return nullptr;
  if (view.len % itemsize != 0 || view.len < static_cast<Py_ssize_t>(kPage)) {
    PyBuffer_Release(&view);
    return extend_array(arr, source, 0);  // raises frombytes' own error for a ragged length
  }
  // One item through frombytes gives a live array to check the layout on.
  Ref first = Ref::steal(PyObject_CallMethod(arr, "frombytes", "y#", view.buf, itemsize));
  char* block = nullptr;
  if (first && array_layout_matches(arr))
    block = static_cast<char*>(PyMem_Malloc(static_cast<size_t>(view.len)));
  if (block == nullptr) {
    PyBuffer_Release(&view);
    PyErr_Clear();
    return extend_array(arr, source, first ? itemsize : 0);
  }
  Py_ssize_t items = view.len / itemsize;
  fill_from(shared_buffer_type, &view, block);  // releases the view
  // Nobody else can see `arr` yet and it has no export: swapping its storage is safe.
  auto* fields = reinterpret_cast<ArrayLayout*>(arr);
  PyMem_Free(fields->ob_item);
  fields->ob_item = block;
  fields->allocated = items;
  Py_SET_SIZE(arr, items);
  Py_RETURN_NONE;
}

PyObject* copy_array(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) return PyErr_Format(PyExc_TypeError, "copy_array(typecode, buffer)");
  Ref array_module = Ref::steal(PyImport_ImportModule("array"));
  Ref array_type =
      array_module ? Ref::steal(PyObject_GetAttrString(array_module.get(), "array")) : Ref();
  Ref arr = array_type ? Ref::steal(PyObject_CallOneArg(array_type.get(), args[0])) : Ref();
  if (!arr) return nullptr;
  Ref filled = Ref::steal(fill_array(module_state(module)->shared_buffer_type, arr.get(), args[1]));
  return filled ? arr.release() : nullptr;
}

PyObject* copy_bytes(PyObject* module, PyObject* source) { return copy_as(module, source, false); }
PyObject* copy_bytearray(PyObject* module, PyObject* source) {
  return copy_as(module, source, true);
}

// malloc_trim(0) returns the free pages of every glibc arena to the system; without it the
// arenas of worker threads keep the high-water mark of every past result (bench: 13 MiB of
// 130 MiB after a table load). A no-op returning False where glibc is not the allocator.
PyObject* trim_heap(PyObject*, PyObject*) {
#if defined(__GLIBC__)
  int released = 0;
  Py_BEGIN_ALLOW_THREADS  // it takes every arena's lock: other threads may hold one
      released = malloc_trim(0);
  Py_END_ALLOW_THREADS return PyBool_FromLong(released);
#else
  Py_RETURN_FALSE;
#endif
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
    {"copy_array", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(copy_array)),
     METH_FASTCALL,
     "copy_array(typecode, buffer) -> array.array: as copy_bytes, the array's storage filled\n"
     "in one copy or none (array.frombytes where this CPython's array layout is unknown)."},
    {"trim_heap", trim_heap, METH_NOARGS,
     "trim_heap() -> bool: return the C heap's free pages (all threads' arenas) to the system;\n"
     "True if some were. For long tasks that leave big freed results behind, not per tiny task."},
    {"transfer_stats", transfer_stats, METH_NOARGS,
     "transfer_stats() -> {'moved': n, 'copied': n}: big bytes-like values rebuilt in this\n"
     "process by moving pages, and by copying, since it started."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pergil::python
