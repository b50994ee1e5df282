// map_squares.cpp: maps a Python function over inputs on every core, from a C++ program.
#include <pergil/pergil.h>

#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  // Where example_tasks.py lives (the build passes this directory; argv[1] overrides it).
  const char* python_dir = argc > 1 ? argv[1] : PERGIL_EXAMPLE_PYTHON_DIR;

  pergil::Runtime runtime;  // starts Python; declared first, so destroyed after the pool
  pergil::PoolOptions options;
  options.workers = 0;  // one worker (thread + own-GIL interpreter) per core
  options.sys_path = {python_dir};
  pergil::Pool pool(runtime, options);

  std::vector<pergil::Value> inputs;
  for (int i = 1; i <= 20; ++i) inputs.emplace_back(i);
  std::vector<pergil::Value> squares = pool.map("example_tasks:square", inputs);

  int64_t total = 0;
  for (size_t i = 0; i < squares.size(); ++i) {
    std::cout << inputs[i] << "^2 = " << squares[i] << "\n";
    total += squares[i].as_int();
  }
  std::cout << "sum " << total << " from " << pool.size() << " workers, Python "
            << pergil::Runtime::python_version() << "\n";
  return total == 20 * 21 * 41 / 6 ? 0 : 1;
}
