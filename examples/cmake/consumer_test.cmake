# The examples' test scripts: the installed-package consumer test (this file) and
# run_and_match.cmake, which runs an example and matches its exit code and output.
#
# The example_consumer test (examples/CMakeLists.txt): cmake --install the build tree into PREFIX,
# configure and build examples/consumer against it with find_package(tinyloop), then check that
# consumer_cpp and consumer_c print the predictions in EXPECTED for MODEL and TOKENS.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${line}\n${out}${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${PREFIX} ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
foreach(f include/tinyloop/tinyloop.h include/tinyloop/inference.hpp lib/cmake/tinyloop/tinyloopConfig.cmake
          lib/pkgconfig/tinyloop.pc)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "the install is missing ${f}")
  endif()
endforeach()

set(args -S ${SOURCE} -B ${WORK} -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release)
if(TOOLCHAIN)
  list(APPEND args -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN})
endif()
run(${CMAKE_COMMAND} ${args})
run(${CMAKE_COMMAND} --build ${WORK})

file(READ ${EXPECTED} expected)
string(REPLACE "|" ";" tokens "${TOKENS}")
string(REPLACE "|" ";" emulator "${EMULATOR}")
foreach(program consumer_cpp consumer_c)
  run(${emulator} ${WORK}/${program} ${MODEL} ${tokens})
  if(NOT out STREQUAL expected)
    message(FATAL_ERROR "${program} printed '${out}', example_predict_c printed '${expected}'")
  endif()
  message(STATUS "${program}: ${out}")
endforeach()

# pkg-config users get the same library (checked when pkg-config is installed).
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG AND NOT TOOLCHAIN)
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/lib/pkgconfig)
  run(${PKG_CONFIG} --libs --cflags tinyloop)
  if(NOT out MATCHES "-ltinyloop_engine")
    message(FATAL_ERROR "pkg-config tinyloop: ${out}")
  endif()
  message(STATUS "pkg-config tinyloop: ${out}")
endif()
