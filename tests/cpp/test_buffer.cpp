// test_buffer.cpp: Buffer copies, and loans of worker objects read and released on other threads.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace pergil_test {
namespace {

using pergil::detail::kLoanThreshold;

// Threads on which a PEP 688 object saw its buffer released (see kRecordingObject).
std::mutex g_release_mutex;
std::vector<std::thread::id> g_release_threads;

PyObject* record_release(PyObject*, PyObject*) {
  std::lock_guard<std::mutex> lock(g_release_mutex);
  g_release_threads.push_back(std::this_thread::get_id());
  Py_RETURN_NONE;
}
PyMethodDef g_record_release_def = {"record_release", record_release, METH_NOARGS, nullptr};

size_t releases_recorded() {
  std::lock_guard<std::mutex> lock(g_release_mutex);
  return g_release_threads.size();
}

// 1 MiB whose byte i is i % 256: large enough to be lent, not copied.
constexpr size_t kBigSize = 256 * 4096;
static_assert(kBigSize >= kLoanThreshold);
const char* const kBigBytes = "result = bytes(range(256)) * 4096\n";
// The same bytes behind a Python-level buffer (PEP 688) that reports each release.
const char* const kRecordingObject =
    "class Recording:\n"
    "    def __init__(self):\n"
    "        self.data = bytes(range(256)) * 4096\n"
    "    def __buffer__(self, flags):\n"
    "        return memoryview(self.data)\n"
    "    def __release_buffer__(self, view):\n"
    "        view.release()\n"
    "        record_release()\n"
    "result = Recording()\n";

bool has_big_pattern(const Buffer& b) {
  if (b.size != kBigSize || b.data == nullptr) return false;
  for (size_t i = 0; i < b.size; ++i)
    if (static_cast<unsigned char>(b.data[i]) != i % 256) return false;
  return true;
}

Lent lend_in(WorkerPool& pool, const std::string& code) {
  return pergil_test::lend_in(pool, code, {&g_record_release_def});
}

class ReclaimQueueTest : public ::testing::TestWithParam<size_t> {
 protected:
  size_t workers() const { return GetParam(); }
};

// The reader on another thread drops the loan; the owning worker performs the release.
TEST_P(ReclaimQueueTest, LoanReleasedElsewhereReturnsToItsWorker) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 20; ++round) {
    Lent lent = lend_in(pool, kBigBytes);
    ASSERT_TRUE(lent.ok);
    EXPECT_EQ(lent.queue->outstanding(), 1u);
    std::thread reader([buffer = std::move(lent.buffer)]() mutable {
      EXPECT_TRUE(has_big_pattern(buffer));
      buffer.keeper.reset();  // queues the release; never touches Python on this thread
    });
    reader.join();
    wait_until([&] { return lent.queue->outstanding() == 0; }, "the worker releasing the loan");
    EXPECT_FALSE(lent.queue->has_pending());
  }
}

TEST_P(ReclaimQueueTest, ReleaseRunsOnTheOwningWorkerThread) {
  WorkerPool pool(pool_options(workers()));
  for (int round = 0; round < 10; ++round) {
    Lent lent = lend_in(pool, kRecordingObject);
    ASSERT_TRUE(lent.ok);
    ASSERT_TRUE(has_big_pattern(lent.buffer));
    size_t before = releases_recorded();
    std::thread([buffer = std::move(lent.buffer)]() mutable { buffer.keeper.reset(); }).join();
    wait_until([&] { return lent.queue->outstanding() == 0; }, "the worker releasing the loan");
    ASSERT_EQ(releases_recorded(), before + 1);
    std::lock_guard<std::mutex> lock(g_release_mutex);
    EXPECT_EQ(g_release_threads.back(), lent.worker_thread);
  }
}

// Loans outstanding in every worker at once, released from several threads in any order.
TEST_P(ReclaimQueueTest, ManyLoansReleasedConcurrently) {
  WorkerPool pool(pool_options(workers()));
  std::vector<Lent> lent;
  for (size_t i = 0; i < workers() * 8; ++i) lent.push_back(lend_in(pool, kBigBytes));
  std::vector<std::thread> readers;
  for (size_t t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (size_t i = t; i < lent.size(); i += 4) {
        EXPECT_TRUE(has_big_pattern(lent[i].buffer));
        lent[i].buffer.keeper.reset();
      }
    });
  }
  for (auto& r : readers) r.join();
  for (auto& l : lent)
    wait_until([&] { return l.queue->outstanding() == 0; }, "every loan being released");
}

// A loan still held when its pool ends stays readable: close() leaks the object on purpose.
TEST_P(ReclaimQueueTest, LoanOutlivesItsPool) {
  for (int round = 0; round < 5; ++round) {
    Lent lent;
    {
      WorkerPool pool(pool_options(workers()));
      lent = lend_in(pool, kBigBytes);
      ASSERT_TRUE(lent.ok);
    }  // every worker interpreter has ended here
    EXPECT_TRUE(has_big_pattern(lent.buffer));
    EXPECT_EQ(lent.queue->outstanding(), 1u);
    lent.buffer.keeper.reset();  // dropped without Python: the interpreter is gone
    EXPECT_EQ(lent.queue->outstanding(), 0u);
    EXPECT_FALSE(lent.queue->has_pending());
  }
}

// Releases race with the end of the pool: each is either drained by its worker or dropped
// after close(); none is lost and none touches the ended pool.
TEST_P(ReclaimQueueTest, ReleasesRacingWithPoolEnd) {
  for (int round = 0; round < 20; ++round) {
    std::vector<Lent> lent;
    std::atomic<bool> go{false};
    std::vector<std::thread> releasers;
    {
      WorkerPool pool(pool_options(workers()));
      for (size_t i = 0; i < workers() * 2; ++i) lent.push_back(lend_in(pool, kBigBytes));
      for (auto& l : lent) {
        releasers.emplace_back([&go, buffer = std::move(l.buffer)]() mutable {
          while (!go.load()) std::this_thread::yield();
          buffer.keeper.reset();
        });
      }
      go.store(true);
    }
    for (auto& r : releasers) r.join();
    for (auto& l : lent) EXPECT_EQ(l.queue->outstanding(), 0u);
  }
}

TEST_P(ReclaimQueueTest, SmallObjectIsCopiedNotLent) {
  WorkerPool pool(pool_options(workers()));
  Lent lent = lend_in(pool, "result = b'pergil' * 10\n");
  ASSERT_TRUE(lent.ok);
  EXPECT_EQ(lent.queue->outstanding(), 0u);
  std::string expected;
  for (int i = 0; i < 10; ++i) expected += "pergil";
  EXPECT_EQ(std::string(lent.buffer.data, lent.buffer.size), expected);
}

TEST_P(ReclaimQueueTest, ObjectWithoutBufferIsRefused) {
  WorkerPool pool(pool_options(workers()));
  Lent lent = lend_in(pool, "result = 12345\n");
  EXPECT_FALSE(lent.ok);
  EXPECT_EQ(lent.queue->outstanding(), 0u);
  auto after = std::make_shared<PythonJob>("'still serving'");  // no exception leaked onward
  pool.submit(after);
  EXPECT_EQ(after->wait().text, "'still serving'");
}

INSTANTIATE_TEST_SUITE_P(Workers, ReclaimQueueTest, worker_counts());

// The wake callback belongs to the queue's owner (a worker of a pool), which may be destroyed as
// soon as close() has returned. So no wake may still run, or start, once close() has returned:
// here a release is caught inside its wake while another thread closes the queue.
TEST(ReclaimQueueCloseTest, NoWakeRunsAfterCloseReturns) {
  std::promise<void> in_wake_promise;
  std::shared_future<void> in_wake = in_wake_promise.get_future().share();
  std::atomic<bool> close_returned{false}, woke_after_close{false};
  auto queue = std::make_shared<ReclaimQueue>([&] {
    in_wake_promise.set_value();
    // Give a racing close() time to return; a correct queue makes it wait for us instead.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (!close_returned.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
    if (close_returned.load()) woke_after_close.store(true);
  });
  Buffer lent;
  {
    PyGILState_STATE gil = PyGILState_Ensure();  // a loan on an object of the main interpreter
    Ref obj = Ref::steal(PyBytes_FromStringAndSize(nullptr, kBigSize));
    ASSERT_TRUE(queue->lend(queue, obj.get(), &lent));
    PyGILState_Release(gil);
  }
  std::thread releaser([&] { lent.keeper.reset(); });
  await(in_wake, "the release calling wake");
  std::thread closer([&] {
    PyGILState_STATE gil = PyGILState_Ensure();
    queue->close();
    PyGILState_Release(gil);
    close_returned.store(true);
  });
  releaser.join();
  closer.join();
  EXPECT_FALSE(woke_after_close.load()) << "wake ran after close() returned: the owner may be gone";
  EXPECT_EQ(queue->outstanding(), 0u);
}

TEST(BufferTest, CopyOfOwnsItsBytes) {
  std::string source = "a buffer that crosses interpreters";
  Buffer copy = Buffer::copy_of(source.data(), source.size());
  source.assign(source.size(), 'x');
  ASSERT_EQ(copy.size, source.size());
  EXPECT_EQ(std::string(copy.data, copy.size), "a buffer that crosses interpreters");
  EXPECT_NE(copy.data, source.data());
}

TEST(BufferTest, CopiesShareTheirKeeper) {
  std::vector<char> big(kBigSize);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 256);
  Buffer second;
  {
    Buffer first = Buffer::copy_of(big.data(), big.size());
    second = first;
    EXPECT_EQ(first.data, second.data);
    EXPECT_EQ(first.keeper.use_count(), 2);
  }
  EXPECT_EQ(second.keeper.use_count(), 1);
  EXPECT_TRUE(has_big_pattern(second));  // the memory lives as long as any copy
}

TEST(BufferTest, CopyOfNothingIsEmpty) {
  Buffer empty = Buffer::copy_of(nullptr, 0);
  EXPECT_EQ(empty.size, 0u);
  EXPECT_TRUE(static_cast<bool>(empty.keeper));
}

}  // namespace
}  // namespace pergil_test
