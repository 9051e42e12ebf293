# cmake -DBUILD_DIR=<dir> -DTARGET=<target> -DEXPECT=<text|text...> -P expect_build_failure.cmake
# Builds TARGET, which must fail, and checks that the build output contains every EXPECT text.
string(REPLACE "|" ";" expected "${EXPECT}")
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "building ${TARGET} succeeded; it must fail:\n${out}")
endif()
foreach(text IN LISTS expected)
  string(FIND "${out}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "building ${TARGET} failed, but the output lacks '${text}':\n${out}")
  endif()
  message(STATUS "found: ${text}")
endforeach()
