# Runs the tinyloop CLI on an input it must refuse without reading it whole, and checks that it
# does so promptly and in little memory:
#  - it exits with EXPECT_RC within TIMEOUT seconds (default 10);
#  - stderr is exactly one "tinyloop: error: " line, matching REGEX;
#  - with MEMORY_KB, it runs under that virtual-memory limit (ulimit -v), far below the input's
#    size. Under qemu and AddressSanitizer, which reserve more address space than that on their
#    own, there is no MEMORY_KB; ASan's hard_rss_limit_mb stands in for it (128 MiB: ASan's own
#    shadow and quarantine take 30-40 MiB).
# FIFO=<path>: a FIFO made there first and held open by a writer that never writes nor closes
# while the CLI runs. STDIN=<file>: the CLI's standard input.
#   cmake -DTINYLOOP=<exe> "-DARGS=a|b" -DEXPECT_RC=1 "-DREGEX=..." [-DMEMORY_KB=65536] [-DFIFO=p]
#         [-DSTDIN=f] [-DTIMEOUT=10] -P expect_bounded.cmake
if(NOT DEFINED TINYLOOP OR NOT DEFINED ARGS OR NOT DEFINED EXPECT_RC OR NOT DEFINED REGEX)
  message(FATAL_ERROR "expect_bounded.cmake needs -DTINYLOOP, -DARGS, -DEXPECT_RC and -DREGEX")
endif()
if(NOT DEFINED TIMEOUT)
  set(TIMEOUT 10)
endif()
string(REPLACE "|" ";" args "${ARGS}")
set(ENV{TL_FIFO} "${FIFO}")
set(ENV{TL_MEMORY_KB} "${MEMORY_KB}")
set(ENV{ASAN_OPTIONS} "$ENV{ASAN_OPTIONS}:hard_rss_limit_mb=128")
set(script [=[
writer=
if [ -n "$TL_FIFO" ]; then
  rm -f "$TL_FIFO" && mkfifo "$TL_FIFO" || exit 97
  sleep 60 > "$TL_FIFO" &
  writer=$!
fi
if [ -n "$TL_MEMORY_KB" ]; then ulimit -v "$TL_MEMORY_KB" || exit 98; fi
"$0" "$@"
rc=$?
if [ -n "$writer" ]; then kill "$writer" 2>/dev/null; fi
exit $rc
]=])
set(input "")
if(DEFINED STDIN)
  set(input INPUT_FILE "${STDIN}")
endif()
string(TIMESTAMP t0 "%s")
execute_process(COMMAND sh -c "${script}" "${TINYLOOP}" ${args} ${input} TIMEOUT ${TIMEOUT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(TIMESTAMP t1 "%s")
math(EXPR seconds "${t1} - ${t0}")
set(show "command: tinyloop ${args}\nexit: ${rc} after ${seconds} s\nstdout:\n${out}\nstderr:\n${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the CLI did not exit by itself within ${TIMEOUT} s\n${show}")
endif()
if(rc EQUAL 97 OR rc EQUAL 98)
  message(FATAL_ERROR "cannot set up the FIFO or the memory limit\n${show}")
endif()
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit ${EXPECT_RC}, got ${rc}\n${show}")
endif()
if(NOT err MATCHES "^tinyloop: error: [^\n]*\n$")
  message(FATAL_ERROR "stderr is not exactly one 'tinyloop: error: ' line\n${show}")
endif()
if(NOT err MATCHES "${REGEX}")
  message(FATAL_ERROR "stderr does not match '${REGEX}'\n${show}")
endif()
message(STATUS "ok (exit ${rc} after ${seconds} s, memory limit '${MEMORY_KB}' KiB): ${err}")
