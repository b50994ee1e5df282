// error_arrives.cpp: a Python exception raised in a worker arrives as pergil::PythonError.
#include <pergil/pergil.h>

#include <iostream>

int main(int argc, char** argv) {
  const char* python_dir = argc > 1 ? argv[1] : PERGIL_EXAMPLE_PYTHON_DIR;
  pergil::Runtime runtime;
  pergil::PoolOptions options;
  options.workers = 2;
  options.sys_path = {python_dir};
  pergil::Pool pool(runtime, options);

  pergil::Value good = pool.submit("example_tasks:parse_record", {"name=ada;age=36"}).get();
  std::cout << "parsed: " << good << "\n";
  try {
    pool.submit("example_tasks:parse_record", {"name=bob;age=unknown"}).get();
  } catch (const pergil::PythonError& e) {
    std::cout << "caught pergil::PythonError\n"
              << "  type:    " << e.type_name() << "\n"
              << "  message: " << e.message() << "\n"
              << "  traceback from the worker:\n"
              << e.traceback();
    bool expected =
        e.type_name() == "ValueError" && e.traceback().find("in _age") != std::string::npos;
    return expected ? 0 : 1;
  }
  std::cout << "no error arrived\n";
  return 1;
}
