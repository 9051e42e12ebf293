# Runs the tinyloop CLI and checks that it fails the way the CLI contract says: a non-zero
# exit (EXPECT_RC when given), stderr exactly ONE line starting with "tinyloop: error: ",
# and that line matching REGEX.
#   cmake -DTINYLOOP=<exe> "-DARGS=arg|arg|..." [-DEXPECT_RC=2] "-DREGEX=<regex>" -P expect_error.cmake
# ARGS uses '|' between arguments (a ';' would be split by add_test); arguments may hold spaces.
if(NOT DEFINED TINYLOOP OR NOT DEFINED ARGS)
  message(FATAL_ERROR "expect_error.cmake needs -DTINYLOOP and -DARGS")
endif()
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${TINYLOOP}" ${args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(show "command: tinyloop ${args}\nexit: ${rc}\nstdout:\n${out}\nstderr:\n${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the CLI did not exit normally (crash?)\n${show}")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a failure, got exit 0\n${show}")
endif()
if(DEFINED EXPECT_RC AND NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit ${EXPECT_RC}, got ${rc}\n${show}")
endif()
if(NOT err MATCHES "^tinyloop: error: [^\n]*\n$")
  message(FATAL_ERROR "stderr is not exactly one 'tinyloop: error: ' line\n${show}")
endif()
if(DEFINED REGEX AND NOT err MATCHES "${REGEX}")
  message(FATAL_ERROR "stderr does not match '${REGEX}'\n${show}")
endif()
message(STATUS "ok (exit ${rc}): ${err}")
