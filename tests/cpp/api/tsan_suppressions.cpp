// tsan_suppressions.cpp: ThreadSanitizer suppressions linked into TSan builds of the API's tests
// and examples (TSan merges them with any file given in TSAN_OPTIONS).
//
// Errors cross threads as std::exception_ptr (std::promise::set_exception, pergil::Result). Its
// reference count is updated inside libstdc++, which is not instrumented, so TSan cannot see
// that the reader of an exception on one thread finished before the last reference dropped on
// another, and reports the exception's destruction there as a race. The frames named below
// appear only in such releases of the last reference.
extern "C" const char* __tsan_default_suppressions() {
  return "race:std::__exception_ptr::exception_ptr::_M_release\n"
         "race:__gxx_dependent_exception_cleanup\n";
}
