# install_test.cmake: cmake --install to a temporary prefix, then build and run the examples
# against it with find_package(pergil), as a separate project. Run by ctest in script mode.
foreach(var PERGIL_BUILD_DIR PERGIL_EXAMPLES_DIR WORK_DIR CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "ok: ${ARGN}\n${out}")
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${WORK_DIR})

run(${CMAKE_COMMAND} --install ${PERGIL_BUILD_DIR} --prefix ${prefix})
file(GLOB_RECURSE config ${prefix}/*/pergilConfig.cmake)
if(NOT EXISTS ${prefix}/include/pergil/pergil.h OR NOT config)
  message(FATAL_ERROR "the install lacks include/pergil/pergil.h or pergilConfig.cmake")
endif()
file(GLOB headers ${prefix}/include/pergil/*.h)
foreach(header ${headers})
  file(STRINGS ${header} python_includes REGEX "#include.*Python")
  if(python_includes)
    message(FATAL_ERROR "${header} includes Python: ${python_includes}")
  endif()
endforeach()

# The consumer knows nothing of Python: no Python_EXECUTABLE, no Python package.
run(${CMAKE_COMMAND} -S ${PERGIL_EXAMPLES_DIR} -B ${consumer} -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_CXX_FLAGS=${CXX_FLAGS}
    -DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DPERGIL_SANITIZE=${SANITIZE})
run(${CMAKE_COMMAND} --build ${consumer})
run(${consumer}/map_squares)
run(${consumer}/error_arrives)
