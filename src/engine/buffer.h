// buffer.h: memory that crosses interpreters as plain bytes, either owned or lent by a PyObject.
#pragma once

#include <Python.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pergil::detail {

// Buffers at least this large are lent (zero copy) instead of copied when they cross.
// Below it a copy is cheaper than the bookkeeping of a loan; above it the exporter's memory is
// a raw malloc block (pymalloc only serves up to 512 bytes), so it never lives in an
// interpreter's own object arenas.
inline constexpr size_t kLoanThreshold = 64 * 1024;

class ReclaimQueue;

// A contiguous, read-only block of memory that any interpreter may read while it holds a copy
// of the Buffer. `keeper` owns the memory: plain C++ storage, or a loan on a Python object whose
// release is queued back to the interpreter that owns the object.
struct Loan;
struct Buffer {
  const char* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> keeper;
  // The loan `keeper` owns, if the memory is lent (nullptr for copies).
  Loan* loan = nullptr;

  static Buffer copy_of(const void* data, size_t size);
};

// A Py_buffer held on an object of one interpreter. Created and released in that interpreter.
struct Loan {
  Py_buffer view{};
  // Set by the owning interpreter (its GIL held) once the lent object is an exact bytes or
  // bytearray whose only reference is this loan: nobody can read it any more but a holder of
  // this loan, so its pages may be moved out instead of copied (see mark_if_movable). Read by
  // the receiver after the completion that carries the loan (a mutex handoff) was taken.
  std::atomic<bool> movable{false};
};

// Marks `loan` movable if its object is referenced by nothing else. Contract: the owning
// interpreter's GIL is held, and the caller dropped every reference of its own first.
void mark_if_movable(Loan* loan);

// Releases of loans, queued by any thread, performed by the owning interpreter's thread with
// its GIL held. After close(), queued and later releases are dropped without touching Python:
// the interpreter is gone, so its objects are deliberately leaked and their memory stays valid.
class ReclaimQueue {
 public:
  explicit ReclaimQueue(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Lends `obj`'s memory: takes a contiguous read-only view. Contract: the owning interpreter's
  // GIL is held. Returns false with a Python exception set if `obj` exports no such buffer.
  bool lend(std::shared_ptr<ReclaimQueue> self, PyObject* obj, Buffer* out);
  // Copies small buffers, lends large ones. Same contract as lend().
  static bool take(const std::shared_ptr<ReclaimQueue>& queue, PyObject* obj, Buffer* out);

  // Releases every queued loan. Contract: the owning interpreter's GIL is held.
  void drain();
  bool has_pending() const { return pending_.load(std::memory_order_acquire) != 0; }
  // Loans handed out and not yet released.
  size_t outstanding() const { return outstanding_.load(std::memory_order_acquire); }
  // Called once the owning interpreter is about to end (its GIL held): drains, then drops.
  void close();

 private:
  void push(Loan* loan);

  std::function<void()> wake_;
  std::mutex mutex_;
  std::vector<Loan*> queued_;
  bool closed_ = false;
  std::atomic<size_t> pending_{0};
  std::atomic<size_t> outstanding_{0};
};

}  // namespace pergil::detail
