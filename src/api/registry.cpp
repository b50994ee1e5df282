// registry.cpp: weak references to every live pool, for Runtime's and atexit's safety net.
#include "registry.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "engine/worker_pool.h"

namespace pergil::detail {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::weak_ptr<WorkerPool>> pools;
};

// Never destroyed: an atexit hook of Python may run during static destruction.
Registry& registry() {
  static Registry* instance = new Registry;
  return *instance;
}

}  // namespace

void register_pool(const std::shared_ptr<WorkerPool>& pool) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.pools.push_back(pool);
}

void unregister_pool(const WorkerPool* pool) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.pools.erase(std::remove_if(r.pools.begin(), r.pools.end(),
                               [pool](const std::weak_ptr<WorkerPool>& weak) {
                                 auto live = weak.lock();
                                 return !live || live.get() == pool;
                               }),
                r.pools.end());
}

void shut_down_live_pools() {
  std::vector<std::shared_ptr<WorkerPool>> live;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (auto& weak : r.pools)
      if (auto pool = weak.lock()) live.push_back(std::move(pool));
  }
  // Outside the lock: a Pool being destroyed meanwhile shuts down the same pool, which is safe,
  // and `live` keeps each pool's memory until its workers have ended here.
  for (auto& pool : live)
    pool->shutdown(/*wait=*/true, /*cancel_pending=*/true, /*interrupt_running=*/true);
}

}  // namespace pergil::detail
