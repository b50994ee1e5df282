// buffer.cpp: owned copies, loans and their release in the owning interpreter.
#include "buffer.h"

#include <cstring>

#include "gil.h"

namespace pergil::detail {

Buffer Buffer::copy_of(const void* data, size_t size) {
  auto storage = std::make_shared<std::vector<char>>(size);
  if (size) std::memcpy(storage->data(), data, size);
  Buffer b;
  b.data = storage->data();
  b.size = size;
  b.keeper = std::move(storage);
  return b;
}

bool ReclaimQueue::lend(std::shared_ptr<ReclaimQueue> self, PyObject* obj, Buffer* out) {
  auto* loan = new Loan();
  if (PyObject_GetBuffer(obj, &loan->view, PyBUF_ANY_CONTIGUOUS) != 0) {
    delete loan;
    return false;
  }
  out->data = static_cast<const char*>(loan->view.buf);
  out->size = static_cast<size_t>(loan->view.len);
  out->loan = loan;
  self->outstanding_.fetch_add(1, std::memory_order_acq_rel);
  // The deleter may run on any thread, with any GIL or none: it only queues.
  out->keeper = std::shared_ptr<const void>(loan, [queue = std::move(self)](const void* p) {
    queue->push(static_cast<Loan*>(const_cast<void*>(p)));
  });
  return true;
}

bool ReclaimQueue::take(const std::shared_ptr<ReclaimQueue>& queue, PyObject* obj, Buffer* out) {
  Py_buffer view;
  if (PyObject_GetBuffer(obj, &view, PyBUF_ANY_CONTIGUOUS) != 0) return false;
  bool small = static_cast<size_t>(view.len) < kLoanThreshold;
  if (small) *out = Buffer::copy_of(view.buf, static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  return small ? true : queue->lend(queue, obj, out);
}

namespace {
// True if `obj` is exactly this interpreter's array.array (its only export is then the loan's,
// as for a bytearray). Looked up only for loans, which are 64 KiB or more.
bool is_exact_array(PyObject* obj) {
  if (std::strcmp(Py_TYPE(obj)->tp_name, "array.array") != 0) return false;
  Ref name = Ref::steal(PyUnicode_FromString("array"));
  Ref module = name ? Ref::steal(PyImport_GetModule(name.get())) : Ref();
  Ref type = module ? Ref::steal(PyObject_GetAttrString(module.get(), "array")) : Ref();
  if (!type) PyErr_Clear();
  return type && reinterpret_cast<PyObject*>(Py_TYPE(obj)) == type.get();
}
}  // namespace

void mark_if_movable(Loan* loan) {
  PyObject* obj = loan->view.obj;
  if (obj == nullptr || Py_REFCNT(obj) != 1) return;  // shared: a move would change it for others
  // Exact types only: a subclass may keep the memory elsewhere too. A bytearray's single export
  // is this loan's view (its refcount of 1 already says nobody else can resize or read it).
  if (PyBytes_CheckExact(obj) || PyByteArray_CheckExact(obj) || is_exact_array(obj))
    loan->movable.store(true, std::memory_order_release);
}

void ReclaimQueue::push(Loan* loan) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) {
      // The owner ended: its object is leaked on purpose, so the memory a reader used stayed
      // valid until now. Only our bookkeeping is freed.
      delete loan;
      outstanding_.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
    queued_.push_back(loan);
    pending_.fetch_add(1, std::memory_order_acq_rel);
    // Under mutex_: once close() has returned, no wake runs or starts, so the owner the wake
    // refers to may be destroyed. Lock order: this queue, then whatever wake_ locks.
    if (wake_) wake_();
  }
}

void ReclaimQueue::drain() {
  std::vector<Loan*> loans;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loans.swap(queued_);
    pending_.store(0, std::memory_order_release);
  }
  for (Loan* loan : loans) {
    PyBuffer_Release(&loan->view);  // must run in the owning interpreter
    delete loan;
    outstanding_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ReclaimQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;  // from now on push() drops instead of queueing
  }
  drain();
}

}  // namespace pergil::detail
