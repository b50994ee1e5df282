// pool_object.cpp: pergil._core.Pool and pergil._core.Task, the main interpreter's handle on
// a worker pool. The Python executor (pergil/_executor.py) is the only intended caller.
#include <chrono>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "../engine/gil.h"
#include "../engine/worker_pool.h"
#include "call_job.h"
#include "core_module.h"

namespace pergil::python {

using detail::Buffer;
using detail::Ref;
using detail::ReleasedGil;

namespace {

struct PoolObject {
  PyObject_HEAD std::unique_ptr<detail::WorkerPool> pool;
  std::shared_ptr<CompletionQueue> completions;
  uint64_t generation;  // fork_generation() at creation
};

struct TaskObject {
  PyObject_HEAD PyObject* pool;  // strong reference to the PoolObject
  std::shared_ptr<PickledCallJob> job;
};

PoolObject* as_pool(PyObject* o) { return reinterpret_cast<PoolObject*>(o); }

bool inherited_by_fork(PyObject* self) { return as_pool(self)->generation != fork_generation(); }

// The engine pool behind `self`, or nullptr with RuntimeError set in a forked child.
detail::WorkerPool* live_pool(PyObject* self) {
  if (inherited_by_fork(self) || !as_pool(self)->pool) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this pergil pool belongs to the parent process: pools do not survive "
                    "os.fork(); create a new one in the child");
    return nullptr;
  }
  return as_pool(self)->pool.get();
}

// Runs pergil._worker.setup(blob) in a new worker; any failure marks the pool broken.
bool setup_worker(detail::WorkerContext& worker, const std::string& blob, std::string* error) {
  PyObject* module = worker_module(worker);
  Ref failure;
  // pergil._worker.run lets this type through, so the engine sees an interrupted task as one.
  if (module != nullptr &&
      PyObject_SetAttrString(module, "TaskInterrupted", worker.interrupt_type()) == 0)
    failure = Ref::steal(PyObject_CallMethod(module, "setup", "y#", blob.data(),
                                             static_cast<Py_ssize_t>(blob.size())));
  if (!failure) {
    *error = "worker set-up failed: " + describe_raised_exception();
    return false;
  }
  if (failure.get() == Py_None) return true;
  const char* text = PyUnicode_Check(failure.get()) ? PyUnicode_AsUTF8(failure.get()) : nullptr;
  *error = text ? text : "worker set-up failed";
  PyErr_Clear();
  return false;
}

PyObject* pool_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"workers", "sys_path", "setup", nullptr};
  Py_ssize_t workers;
  PyObject* sys_path;
  Py_buffer setup;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nO!y*", const_cast<char**>(keywords), &workers,
                                   &PyList_Type, &sys_path, &setup))
    return nullptr;
  std::string blob(static_cast<const char*>(setup.buf), static_cast<size_t>(setup.len));
  PyBuffer_Release(&setup);
  if (workers < 1) return PyErr_Format(PyExc_ValueError, "workers must be at least 1");
  detail::PoolOptions options;
  options.workers = static_cast<size_t>(workers);
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sys_path); ++i) {
    PyObject* item = PyList_GET_ITEM(sys_path, i);
    if (!PyUnicode_Check(item)) continue;  // sys.path may hold non-str entries; skip them
    Ref encoded = Ref::steal(PyUnicode_EncodeFSDefault(item));
    if (!encoded) return nullptr;
    options.sys_path.emplace_back(PyBytes_AS_STRING(encoded.get()));
  }
  auto completions = std::make_shared<CompletionQueue>();
  options.initialize = [blob](detail::WorkerContext& w, std::string* error) {
    return setup_worker(w, blob, error);
  };
  options.on_all_workers_ended = [completions] { completions->close(); };
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  PoolObject* pool = as_pool(self);
  new (&pool->pool) std::unique_ptr<detail::WorkerPool>();
  new (&pool->completions) std::shared_ptr<CompletionQueue>(completions);
  pool->generation = fork_generation();
  try {
    ReleasedGil released;  // workers start and may need the import lock while we wait
    pool->pool = std::make_unique<detail::WorkerPool>(std::move(options));
  } catch (const std::exception& e) {
    Py_DECREF(self);
    return PyErr_Format(PyExc_RuntimeError, "cannot start the pool: %s", e.what());
  }
  return self;
}

void pool_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PoolObject* pool = as_pool(self);
  if (inherited_by_fork(self)) {  // leaked: see fork_generation()
    pool->pool.release();
    new std::shared_ptr<CompletionQueue>(std::move(pool->completions));
  }
  if (pool->pool) {
    ReleasedGil released;  // joining workers must not hold the main GIL
    pool->pool.reset();
  }
  pool->pool.~unique_ptr();
  // Releases what the workers still lent back and stops waking this queue's owner.
  if (pool->completions) pool->completions->main_reclaims()->close();
  pool->completions.~shared_ptr();
  type->tp_free(self);
  Py_DECREF(type);
}

bool take_main(PoolObject* pool, PyObject* obj, Buffer* out) {
  return detail::ReclaimQueue::take(pool->completions->main_reclaims(), obj, out);
}

PyObject* pool_submit(PyObject* self, PyObject* args) {
  PyObject *stream, *buffers;
  double timeout = 0.0;
  if (!PyArg_ParseTuple(args, "OO!|d", &stream, &PyList_Type, &buffers, &timeout)) return nullptr;
  PoolObject* pool = as_pool(self);
  detail::WorkerPool* engine = live_pool(self);
  if (engine == nullptr) return nullptr;
  Payload call;
  if (!take_main(pool, stream, &call.stream)) return nullptr;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(buffers); ++i) {
    Buffer buffer;
    if (!take_main(pool, PyList_GET_ITEM(buffers, i), &buffer)) return nullptr;
    call.buffers.push_back(std::move(buffer));
  }
  auto job = std::make_shared<PickledCallJob>(std::move(call), pool->completions);
  job->timeout = timeout > 0 ? timeout : 0.0;
  ModuleState* state = module_state(PyType_GetModule(Py_TYPE(self)));
  PyObject* task = state->task_type->tp_alloc(state->task_type, 0);
  if (task == nullptr) return nullptr;
  auto* t = reinterpret_cast<TaskObject*>(task);
  new (&t->job) std::shared_ptr<PickledCallJob>(job);
  t->pool = Py_NewRef(self);
  try {
    engine->submit(job);
  } catch (const std::exception& e) {
    Py_DECREF(task);
    return PyErr_Format(PyExc_RuntimeError, "%s", e.what());
  }
  return task;
}

PyObject* completion_tuple(PyTypeObject* buffer_type, Completion& c) {
  Ref stream;
  if (c.payload.stream.size < detail::kLoanThreshold)
    stream = Ref::steal(PyBytes_FromStringAndSize(c.payload.stream.data,
                                                  static_cast<Py_ssize_t>(c.payload.stream.size)));
  else
    stream = Ref::steal(wrap_buffer(buffer_type, std::move(c.payload.stream)));
  Ref buffers = Ref::steal(PyList_New(0));
  if (!stream || !buffers) return nullptr;
  for (Buffer& b : c.payload.buffers) {
    Ref item = Ref::steal(wrap_buffer(buffer_type, std::move(b)));
    if (!item || PyList_Append(buffers.get(), item.get()) != 0) return nullptr;
  }
  return Py_BuildValue("KiOOs#", static_cast<unsigned long long>(c.id), static_cast<int>(c.status),
                       stream.get(), buffers.get(), c.message.data(),
                       static_cast<Py_ssize_t>(c.message.size()));
}

// completions(timeout=-1) -> list of (id, status, stream, buffers, message), or None once the
// pool has ended and every completion was returned.
PyObject* pool_completions(PyObject* self, PyObject* args) {
  double timeout = -1.0;
  if (!PyArg_ParseTuple(args, "|d", &timeout)) return nullptr;
  if (inherited_by_fork(self)) Py_RETURN_NONE;
  PoolObject* pool = as_pool(self);
  std::vector<Completion> done;
  bool open;
  {
    ReleasedGil released;
    open = pool->completions->wait(&done, timeout);
  }
  pool->completions->main_reclaims()->drain();
  if (!open) Py_RETURN_NONE;
  PyTypeObject* buffer_type = module_state(PyType_GetModule(Py_TYPE(self)))->shared_buffer_type;
  Ref list = Ref::steal(PyList_New(0));
  if (!list) return nullptr;
  for (Completion& c : done) {
    Ref item = Ref::steal(completion_tuple(buffer_type, c));
    if (!item || PyList_Append(list.get(), item.get()) != 0) return nullptr;
  }
  return list.release();
}

PyObject* pool_shutdown(PyObject* self, PyObject* args) {
  int wait = 1, cancel_pending = 0, interrupt = 0;
  if (!PyArg_ParseTuple(args, "|ppp", &wait, &cancel_pending, &interrupt)) return nullptr;
  PoolObject* pool = as_pool(self);
  detail::WorkerPool* engine = live_pool(self);
  if (engine == nullptr) return nullptr;
  {
    ReleasedGil released;
    engine->shutdown(wait, cancel_pending, interrupt);
  }
  pool->completions->main_reclaims()->drain();
  Py_RETURN_NONE;
}

PyObject* pool_interrupt_running(PyObject* self, PyObject*) {
  detail::WorkerPool* engine = live_pool(self);
  if (engine == nullptr) return nullptr;
  {
    ReleasedGil released;
    engine->interrupt_running();
  }
  Py_RETURN_NONE;
}

PyObject* pool_get_size(PyObject* self, void*) {
  detail::WorkerPool* engine = live_pool(self);
  return engine ? PyLong_FromSize_t(engine->size()) : nullptr;
}

PyObject* pool_get_broken(PyObject* self, void*) {
  if (inherited_by_fork(self))
    return PyUnicode_FromString("this pool belongs to the parent process (os.fork())");
  std::string reason = as_pool(self)->pool->broken_reason();
  if (reason.empty()) Py_RETURN_NONE;
  return PyUnicode_FromStringAndSize(reason.data(), static_cast<Py_ssize_t>(reason.size()));
}

PyMethodDef pool_methods[] = {
    {"submit", pool_submit, METH_VARARGS, "submit(stream, buffers, timeout=0.0) -> Task"},
    {"completions", pool_completions, METH_VARARGS, "completions(timeout=-1) -> list | None"},
    {"shutdown", pool_shutdown, METH_VARARGS, "shutdown(wait, cancel_pending, interrupt)"},
    {"interrupt_running", pool_interrupt_running, METH_NOARGS, "Interrupt every running task."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef pool_getset[] = {
    {"size", pool_get_size, nullptr, "Number of workers.", nullptr},
    {"broken", pool_get_broken, nullptr, "Why the pool broke, or None.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot pool_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(pool_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(pool_dealloc)},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {Py_tp_doc, const_cast<char*>("Pool(workers, sys_path, setup): own-GIL worker pool.")},
    {0, nullptr},
};

TaskObject* as_task(PyObject* o) { return reinterpret_cast<TaskObject*>(o); }

// cancel() -> 0 cancelled before it ran, 1 interrupt requested, 2 already finished.
PyObject* task_cancel(PyObject* self, PyObject*) {
  TaskObject* task = as_task(self);
  detail::WorkerPool* engine = live_pool(task->pool);
  if (engine == nullptr) return nullptr;
  std::shared_ptr<detail::Job> job = task->job;
  detail::CancelOutcome outcome;
  {
    ReleasedGil released;  // a pending job's discard() takes the completion queue's lock
    outcome = engine->cancel(job);
  }
  return PyLong_FromLong(static_cast<long>(outcome));
}

PyObject* task_get_id(PyObject* self, void*) {
  return PyLong_FromUnsignedLongLong(as_task(self)->job->id());
}

PyObject* task_get_running(PyObject* self, void*) {
  return PyBool_FromLong(as_task(self)->job->state() == detail::JobState::kRunning);
}

// Seconds since a worker began the task, or None if none has (queued, or cancelled before it
// ran). The steady clock is read here, so callers need not share its epoch.
PyObject* task_get_seconds_since_start(PyObject* self, void*) {
  const detail::Job& job = *as_task(self)->job;
  detail::JobState state = job.state();  // acquire: started() is valid once running or done
  if (state != detail::JobState::kRunning && state != detail::JobState::kDone) Py_RETURN_NONE;
  std::chrono::duration<double> since = std::chrono::steady_clock::now() - job.started();
  return PyFloat_FromDouble(since.count());
}

void task_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  TaskObject* task = as_task(self);
  if (inherited_by_fork(task->pool))
    new std::shared_ptr<PickledCallJob>(std::move(task->job));  // leaked: see fork_generation()
  task->job.~shared_ptr();
  Py_XDECREF(task->pool);
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef task_methods[] = {
    {"cancel", task_cancel, METH_NOARGS, "cancel() -> 0 cancelled, 1 interrupting, 2 too late"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef task_getset[] = {
    {"id", task_get_id, nullptr, "Task id, as in completions().", nullptr},
    {"running", task_get_running, nullptr, "Whether a worker runs it now.", nullptr},
    {"seconds_since_start", task_get_seconds_since_start, nullptr,
     "Seconds since a worker began it (float), or None if none has.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot task_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(task_dealloc)},
    {Py_tp_methods, task_methods},
    {Py_tp_getset, task_getset},
    {0, nullptr},
};

}  // namespace

PyType_Spec pool_spec = {"pergil._core.Pool", sizeof(PoolObject), 0,
                         Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, pool_slots};

PyType_Spec task_spec = {
    "pergil._core.Task", sizeof(TaskObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION, task_slots};

}  // namespace pergil::python
