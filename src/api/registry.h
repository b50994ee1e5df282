// registry.h: the pools alive in this process, so that they can all be ended before Python is.
#pragma once

#include <memory>

namespace pergil::detail {

class WorkerPool;

void register_pool(const std::shared_ptr<WorkerPool>& pool);
void unregister_pool(const WorkerPool* pool);

// Shuts down every registered pool: queued calls are cancelled, running ones interrupted, and
// it returns once their workers (and so their interpreters) have ended.
// Contract: the calling thread holds no GIL and is not a worker.
void shut_down_live_pools();

}  // namespace pergil::detail
