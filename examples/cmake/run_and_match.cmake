# cmake -DCOMMAND=<program|arg|...> [-DEXPECT_RC=0] [-DSTDOUT=<regex>] [-DSTDERR=<regex>]
#       [-DSAVE_STDOUT=<file>] -P run_and_match.cmake
# Runs COMMAND (under the cross emulator when the caller puts it first) and checks its exit
# code and its output. A regex runs over the whole stream.
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("exit code: ${rc}\n--- stdout ---\n${out}--- stderr ---\n${err}--------------")
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got ${rc}")
endif()
if(DEFINED STDOUT AND NOT out MATCHES "${STDOUT}")
  message(FATAL_ERROR "stdout does not match: ${STDOUT}")
endif()
if(DEFINED STDERR AND NOT err MATCHES "${STDERR}")
  message(FATAL_ERROR "stderr does not match: ${STDERR}")
endif()
if(DEFINED SAVE_STDOUT)
  file(WRITE "${SAVE_STDOUT}" "${out}")
endif()
