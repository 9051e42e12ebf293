# The CLI tests' scripts (tests/cli_tests.cmake): run the tinyloop command and check its output
# and files, resume and sweep runs, damaged checkpoints and oversized inputs.
#
# Writes a damaged copy of a checkpoint: MODE=truncated (first half of SRC, binary-safe via
# `head -c`, falling back to text garbage where there is no `head`), empty, or garbage.
#   cmake -DSRC=<model.tlc> -DDST=<copy> -DMODE=truncated|empty|garbage -P corrupt_copy.cmake
if(NOT EXISTS "${SRC}")
  message(FATAL_ERROR "corrupt_copy.cmake: '${SRC}' does not exist")
endif()
file(REMOVE "${DST}")
if(MODE STREQUAL "truncated")
  file(SIZE "${SRC}" size)
  math(EXPR half "${size} / 2")
  find_program(HEAD_PROGRAM head)
  if(HEAD_PROGRAM)
    execute_process(COMMAND "${HEAD_PROGRAM}" -c ${half} "${SRC}" OUTPUT_FILE "${DST}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "head -c failed: ${rc}")
    endif()
    file(SIZE "${DST}" got)
    if(NOT got EQUAL half)
      message(FATAL_ERROR "truncated copy has ${got} bytes, expected ${half}")
    endif()
  else()
    file(WRITE "${DST}" "TLCK truncated stand-in without head(1)")
  endif()
elseif(MODE STREQUAL "empty")
  file(WRITE "${DST}" "")
else()
  file(WRITE "${DST}" "this is not a tinyloop checkpoint\n")
endif()
