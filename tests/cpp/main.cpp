// main.cpp: starts the embedded main interpreter once for all engine tests.
#include <Python.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  Py_InitializeEx(0);
  PyThreadState* main_state = PyEval_SaveThread();  // tests run with no GIL held
  int rc = RUN_ALL_TESTS();
  PyEval_RestoreThread(main_state);
  // Every pool (and so every worker interpreter) has ended: required before finalizing.
  if (Py_FinalizeEx() != 0) rc = rc ? rc : 1;
  return rc;
}
