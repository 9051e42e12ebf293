# Fixture of the bounded-input tests, from a good checkpoint SRC (DAMAGE: the damage_checkpoint
# helper, which writes the large files sparse, so they take no disk space):
#   DIR/zeros_1g.bin          GIGABYTE bytes of zeros
#   DIR/trailing_1g.tlc       SRC followed by zeros up to GIGABYTE bytes
#   DIR/declares_huge.tlc     SRC whose header declares 2^62 bytes, followed by zeros up to GIGABYTE
#   DIR/trailing_byte.tlc     SRC and one more byte
#   DIR/merge/run/            a run whose eval.json is zeros_1g.bin
#   DIR/merge_log/run/        a run (SRC, at step 30) whose train_log.csv is one byte over its cap
#   DIR/many_runs.txt         a sweep spec that expands into 10,201 runs
#   cmake -DSRC=<model.tlc> -DDIR=<dir> -DDAMAGE=<exe> -DGIGABYTE=<n> -P make_bounded_files.cmake
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}/merge/run" "${DIR}/merge_log/run")
include(${CMAKE_CURRENT_LIST_DIR}/run_damage.cmake)
file(SIZE "${SRC}" size)
math(EXPR one_more "${size} + 1")
damage(pad /dev/null "${DIR}/zeros_1g.bin" ${GIGABYTE})
damage(pad "${SRC}" "${DIR}/trailing_1g.tlc" ${GIGABYTE})
damage(declare "${SRC}" "${DIR}/declares_huge.tlc" 4611686018427387904)
damage(pad "${DIR}/declares_huge.tlc" "${DIR}/declares_huge.tlc" ${GIGABYTE})
damage(pad "${SRC}" "${DIR}/trailing_byte.tlc" ${one_more})
damage(pad /dev/null "${DIR}/merge/run/eval.json" ${GIGABYTE})

# A log of a 30-step run holds the header and at most 30 rows of 256 bytes (train_log.hpp).
configure_file("${SRC}" "${DIR}/merge_log/run/model.tlc" COPYONLY)
file(WRITE "${DIR}/merge_log/run/eval.json" "{\"results\": []}\n")
math(EXPR over_cap "30 * 256 + 1")
string(REPEAT "x" ${over_cap} rows)
file(WRITE "${DIR}/merge_log/run/train_log.csv" "step,ce,potential,kinetic,tsallis,entropy,total,grad_norm,lr,acc,len\n${rows}")

# A two-line sweep spec whose grid multiplies to 101 x 101 runs.
set(values 1)
foreach(v RANGE 2 101)
  string(APPEND values ",${v}")
endforeach()
file(WRITE "${DIR}/many_runs.txt" "common --steps 1\ngrid g --warmup ${values} --batch ${values}\n")
