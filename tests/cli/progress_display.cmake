# The progress display of `tinyloop train`: on a terminal one line rewritten in place ("\r", the
# line, clear to end of line) and ended by a newline; in a pipe plain lines without "\r"; with
# --quiet no progress at all. The terminal is a pseudo-terminal from util-linux `script`
# (SCRIPT, when found); without it only the pipe and --quiet checks run.
#   cmake -DTINYLOOP=<exe> -DWORK=<dir> [-DSCRIPT=<script>] -P progress_display.cmake
if(NOT DEFINED TINYLOOP OR NOT DEFINED WORK)
  message(FATAL_ERROR "progress_display.cmake needs -DTINYLOOP and -DWORK")
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(train train --steps 200 --batch 4 --threads 1 --max-len 24 --no-eval --overwrite)

execute_process(COMMAND "${TINYLOOP}" ${train} --out "${WORK}/pipe" RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 0 OR NOT err MATCHES "\nstep 200/200  loss [^\n]* steps/s  ETA 0s  \\(ce [^\n]*\\)\ntrained 200 steps")
  message(FATAL_ERROR "pipe: exit ${rc}, no final progress line:\n${err}")
endif()
string(ASCII 13 cr)
string(ASCII 27 esc)
if(err MATCHES "${cr}|${esc}")
  message(FATAL_ERROR "pipe: the progress has terminal control characters:\n${err}")
endif()

execute_process(COMMAND "${TINYLOOP}" ${train} --out "${WORK}/quiet" --quiet RESULT_VARIABLE rc ERROR_VARIABLE err
                OUTPUT_QUIET)
if(NOT rc EQUAL 0 OR err MATCHES "step [0-9]+/")
  message(FATAL_ERROR "--quiet: exit ${rc}, progress printed anyway:\n${err}")
endif()

if(NOT SCRIPT)
  message(STATUS "pipe and --quiet: ok; no `script` for a pseudo-terminal, the in-place line is not checked")
  return()
endif()
string(REPLACE ";" " " command "'${TINYLOOP}' ${train} --out '${WORK}/tty'")
execute_process(COMMAND "${SCRIPT}" -qec "${command}" "${WORK}/tty.log" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
file(READ "${WORK}/tty.log" log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "terminal: exit ${rc}:\n${log}")
endif()
# The last line drawn in place, cleared to the end of the line, then its newline (a terminal
# writes "\r\n" for it); the next line starts at column 0.
if(NOT log MATCHES "${cr}step 200/200  loss [^\n]*${esc}\\[K${cr}?\ntrained 200 steps")
  message(FATAL_ERROR "terminal: no final line in place followed by its newline:\n${log}")
endif()
if(log MATCHES "\nstep [0-9]+/200")
  message(FATAL_ERROR "terminal: a progress line started a new line instead of replacing the last:\n${log}")
endif()
message(STATUS "terminal, pipe and --quiet: ok")
