# Stopping and resuming gives the same run, bit for bit: a 40-step run in one go
# against the same run stopped at step 20 (--stop-at) and resumed (--resume), both with the
# same thread count, and against a resume from the periodic checkpoint of step 10
# (--save-every 10 --keep-checkpoints) with a different thread count. The whole checkpoint is
# compared byte for byte (weights, AdamW moments, step and data-generator state), and the
# resumed train_log.csv must equal the uninterrupted one.
# EXTRA (a ;-list) adds training flags to every fresh run, and EXPECT_VERSION checks the
# checkpoint format version the runs write (2 with an entropy schedule).
#   cmake -DTINYLOOP=<exe> -DWORK=<dir> [-DEXTRA=<flags>] [-DEXPECT_VERSION=<n>] -P resume_identical.cmake
if(NOT DEFINED TINYLOOP OR NOT DEFINED WORK)
  message(FATAL_ERROR "resume_identical.cmake needs -DTINYLOOP and -DWORK")
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(common --preset lam2026 --steps 40 --batch 4 --min-len 8 --max-len 16 --seed 5 --log-every 10 --no-eval ${EXTRA})

function(run_ok)
  execute_process(COMMAND "${TINYLOOP}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tinyloop ${ARGN}\nexit ${rc}\n${out}\n${err}")
  endif()
  set(last_stderr "${err}" PARENT_SCOPE)
endfunction()

function(same_bytes a b what)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${a}" "${b}" RESULT_VARIABLE differ)
  if(differ)
    file(SIZE "${a}" sa)
    file(SIZE "${b}" sb)
    message(FATAL_ERROR "${what}: '${a}' (${sa} bytes) and '${b}' (${sb} bytes) differ")
  endif()
  message(STATUS "identical: ${what}")
endfunction()

# 1. uninterrupted, with periodic checkpoints kept
run_ok(train ${common} --threads 2 --save-every 10 --keep-checkpoints --out "${WORK}/full")
foreach(k 10 20 30 40)
  if(NOT EXISTS "${WORK}/full/model-step${k}.tlc")
    message(FATAL_ERROR "--save-every 10 --keep-checkpoints did not write model-step${k}.tlc")
  endif()
endforeach()
if(EXISTS "${WORK}/full/model-step15.tlc" OR EXISTS "${WORK}/full/model-step5.tlc")
  message(FATAL_ERROR "--save-every 10 saved off its period")
endif()
same_bytes("${WORK}/full/model.tlc" "${WORK}/full/model-step40.tlc" "the final model.tlc and model-step40.tlc")
if(DEFINED EXPECT_VERSION)
  file(READ "${WORK}/full/model.tlc" version_hex OFFSET 8 LIMIT 4 HEX)
  if(NOT version_hex STREQUAL "0${EXPECT_VERSION}000000")
    message(FATAL_ERROR "model.tlc has format version bytes ${version_hex}, expected ${EXPECT_VERSION}")
  endif()
endif()

# 2. the same run stopped at step 20, then resumed to the end with the same thread count
run_ok(train ${common} --threads 2 --stop-at 20 --out "${WORK}/split")
# (--log-every is a run option, not stored in the checkpoint: repeat it for the same log rows)
run_ok(train --resume "${WORK}/split/model.tlc" --threads 2 --no-eval --log-every 10)
if(NOT last_stderr MATCHES "resuming [^\n]*split/model.tlc at step 20 of 40")
  message(FATAL_ERROR "the resumed run did not announce step 20:\n${last_stderr}")
endif()
same_bytes("${WORK}/full/model.tlc" "${WORK}/split/model.tlc" "stop at 20 + resume vs uninterrupted (2 threads)")
same_bytes("${WORK}/full/train_log.csv" "${WORK}/split/train_log.csv" "the resumed train_log.csv")

# 3. resumed from the periodic checkpoint of step 10 into another directory, 1 thread
run_ok(train --resume "${WORK}/full/model-step10.tlc" --threads 1 --no-eval --out "${WORK}/from10")
if(NOT last_stderr MATCHES "at step 10 of 40")
  message(FATAL_ERROR "model-step10.tlc does not hold step 10:\n${last_stderr}")
endif()
same_bytes("${WORK}/full/model.tlc" "${WORK}/from10/model.tlc" "resume from model-step10.tlc (1 thread) vs uninterrupted")

# 4. a stop that is not on a log or save boundary (step 17), resumed: same weights
run_ok(train ${common} --threads 2 --stop-at 17 --out "${WORK}/odd")
run_ok(train --resume "${WORK}/odd/model.tlc" --threads 2 --no-eval)
same_bytes("${WORK}/full/model.tlc" "${WORK}/odd/model.tlc" "stop at 17 + resume vs uninterrupted")
