# Fixture of the reliability tests, from a good checkpoint SRC:
#   DIR/guard/model.tlc + reference.tlc   a good checkpoint and its pristine copy
#   DIR/guard/existing.json               a file an export must not replace on failure
#   DIR/flipped.tlc, nan.tlc, cut.tlc      damaged copies (DAMAGE: the damage_checkpoint helper)
#   DIR/bad/model.tlc + bad/reference.tlc  a damaged (flipped) checkpoint in a run directory
#   DIR/tokens/*.txt                       token files: good, bad id, not a number, empty,
#                                          blank, binary, over capacity (MAX_TOKENS + 1 tokens)
#   cmake -DSRC=<model.tlc> -DDIR=<dir> -DDAMAGE=<exe> -DMAX_TOKENS=<n> -P make_reliability_files.cmake
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}/guard" "${DIR}/bad" "${DIR}/tokens")
function(copy from to)  # file(COPY_FILE) needs CMake 3.21
  execute_process(COMMAND ${CMAKE_COMMAND} -E copy "${from}" "${to}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot copy '${from}' to '${to}'")
  endif()
endfunction()
copy("${SRC}" "${DIR}/guard/model.tlc")
copy("${SRC}" "${DIR}/guard/reference.tlc")
file(WRITE "${DIR}/guard/existing.json" "{\"keep\": true}\n")
copy("${DIR}/guard/existing.json" "${DIR}/guard/existing.reference.json")

include(${CMAKE_CURRENT_LIST_DIR}/run_damage.cmake)
file(SIZE "${SRC}" size)
math(EXPR middle "${size} / 2")
damage(flip "${SRC}" "${DIR}/flipped.tlc" ${middle})
damage(nan "${SRC}" "${DIR}/nan.tlc")
math(EXPR cut "${size} - 1")
damage(trunc "${SRC}" "${DIR}/cut.tlc" ${cut})
damage(flip "${SRC}" "${DIR}/bad/model.tlc" 300)
copy("${DIR}/bad/model.tlc" "${DIR}/bad/reference.tlc")

set(t "${DIR}/tokens")
file(WRITE "${t}/good.txt" "0 1 2 3\n0 1, 2 3\n")
file(WRITE "${t}/bad_id.txt" "0 1 2\n3 0 4 1\n")
file(WRITE "${t}/not_int.txt" "0 1 2 3 0 1.5 2\n")
file(WRITE "${t}/empty.txt" "")
file(WRITE "${t}/blank.txt" " \n\t, ,\n")
string(ASCII 1 2 127 control)
file(WRITE "${t}/binary.txt" "TLOOPCK\n${control}")
math(EXPR pairs "(${MAX_TOKENS} / 2) + 1")
string(REPEAT "0 1 " ${pairs} long)
file(WRITE "${t}/too_long.txt" "${long}")
