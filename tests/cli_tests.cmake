# End-to-end tests of the tinyloop CLI (tools/cli), included from tests/CMakeLists.txt.
# A tiny training run is the fixture; eval, infer and export run on its checkpoint, and the
# error cases check the contract: non-zero exit, one "tinyloop: error: " line on stderr.
set(cli_exe "$<TARGET_FILE:tinyloop>")
set(cli_dir "${CMAKE_CURRENT_SOURCE_DIR}/cli")
set(cli_work "${CMAKE_CURRENT_BINARY_DIR}/cli_work")
set(cli_run "${cli_work}/run")
set(cli_model "${cli_run}/model.tlc")

# Keep '[' and ']' balanced inside every regex: CMake does not split a list at a ';' that
# sits inside unbalanced square brackets, which would glue the following arguments together.
#
# tinyloop_cli_ok(NAME ARGS <a|b|c> [STDOUT regex] [STDERR regex] [FILES f|g] [CHECK_FILE f CHECK_REGEX r]
#                 [RC code] [LAUNCHER prog|arg] [FIXTURE_SETUP name] [REQUIRES names...])
function(tinyloop_cli_ok name)
  cmake_parse_arguments(T "" "ARGS;STDOUT;STDERR;FILES;CHECK_FILE;CHECK_REGEX;RC;LAUNCHER;FIXTURE_SETUP" "REQUIRES" ${ARGN})
  set(defs "-DTINYLOOP=${cli_exe}" "-DARGS=${T_ARGS}")
  if(DEFINED T_STDOUT)
    list(APPEND defs "-DSTDOUT_REGEX=${T_STDOUT}")
  endif()
  if(DEFINED T_STDERR)
    list(APPEND defs "-DSTDERR_REGEX=${T_STDERR}")
  endif()
  if(DEFINED T_FILES)
    list(APPEND defs "-DFILES=${T_FILES}")
  endif()
  if(DEFINED T_CHECK_FILE)
    list(APPEND defs "-DCHECK_FILE=${T_CHECK_FILE}" "-DCHECK_FILE_REGEX=${T_CHECK_REGEX}")
  endif()
  if(DEFINED T_RC)
    list(APPEND defs "-DEXPECT_RC=${T_RC}")
  endif()
  if(DEFINED T_LAUNCHER)
    list(APPEND defs "-DLAUNCHER=${T_LAUNCHER}")
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${cli_dir}/expect_success.cmake)
  set_tests_properties(${name} PROPERTIES LABELS cli)
  if(T_FIXTURE_SETUP)
    set_tests_properties(${name} PROPERTIES FIXTURES_SETUP ${T_FIXTURE_SETUP})
  endif()
  if(T_REQUIRES)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${T_REQUIRES}")
  endif()
endfunction()

# tinyloop_cli_error(NAME ARGS <a|b|c> RC <code> REGEX <regex> [REQUIRES names...])
function(tinyloop_cli_error name)
  cmake_parse_arguments(T "" "ARGS;RC;REGEX" "REQUIRES" ${ARGN})
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DARGS=${T_ARGS}" "-DEXPECT_RC=${T_RC}"
                   "-DREGEX=${T_REGEX}" -P ${cli_dir}/expect_error.cmake)
  set_tests_properties(${name} PROPERTIES LABELS cli)
  if(T_REQUIRES)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${T_REQUIRES}")
  endif()
endfunction()

# ---- help ----
tinyloop_cli_ok(cli_help ARGS "--help" STDOUT "train.*eval.*infer.*export")
tinyloop_cli_ok(cli_train_help ARGS "train|--help" STDOUT "--steps N.*--eval-lengths")
tinyloop_cli_ok(cli_eval_help ARGS "eval|--help" STDOUT "--per-loop")

# ---- the fixture: a tiny training run ----
tinyloop_cli_ok(cli_train
  ARGS "train|--preset|lam2026|--steps|30|--batch|8|--threads|2|--seed|7|--eval-lengths|16,32|--eval-samples|8|--log-every|10|--out|${cli_run}|--overwrite"
  STDOUT "len +token_acc +seq_acc +positions"
  STDERR "step 30/30 +loss"
  FILES "${cli_model}|${cli_run}/train_log.csv|${cli_run}/eval.json"
  CHECK_FILE "${cli_run}/train_log.csv"
  CHECK_REGEX "^step,ce,potential,kinetic,tsallis,entropy,total,grad_norm,lr,acc,len\n10,[^\n]*\n20,[^\n]*\n30,"
  FIXTURE_SETUP cli_model)

# ---- eval / infer / export on the checkpoint ----
tinyloop_cli_ok(cli_eval ARGS "eval|--checkpoint|${cli_model}|--lengths|16,40|--samples|8"
  STDOUT "len +token_acc +seq_acc +positions\n +16 +[0-9.]+% +[0-9.]+% +[0-9]+\n +40 "
  REQUIRES cli_model)
tinyloop_cli_ok(cli_eval_json ARGS "eval|--checkpoint|${cli_model}|--lengths|16|--samples|4|--per-loop|--json"
  STDOUT "^{.*\"results\": \\[.*\"len\": 16.*\"token_accuracy\": .*\"per_loop\": \\[[0-9.e-]+(, [0-9.e-]+)*\\]}.*\\]"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_eval_per_loop ARGS "eval|--checkpoint|${cli_model}|--lengths|16|--samples|4|--per-loop"
  STDOUT "per-loop readout.*\n +25 +[0-9.]+\n"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_infer ARGS "infer|--checkpoint|${cli_model}|--tokens|0 1 2 3 0 1 2 3"
  STDOUT "pos +token +prediction\n +0 +0 +(NONE|[0-3])\n.* +7 +3 +(NONE|[0-3])\n"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_infer_json ARGS "infer|--checkpoint|${cli_model}|--tokens|0,1,2,3,0|--logits|--json"
  STDOUT "\"tokens\": \\[0, 1, 2, 3, 0\\],\n  \"predictions\": \\[[0-4](, [0-4])*\\],\n  \"logits\": \\[\n    \\[[-0-9.e]+, [-0-9.e]+, [-0-9.e]+, [-0-9.e]+, [-0-9.e]+\\],\n.*\\]"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_export ARGS "export|--checkpoint|${cli_model}|--json|${cli_work}/export.json"
  CHECK_FILE "${cli_work}/export.json"
  CHECK_REGEX "\"format\": \"tinyloop-export\".*\"version\": 1.*\"positions\": \"sinusoidal\".*\"E\": {\"shape\": \\[4, 8\\].*\"ln1.gain\": {\"shape\": \\[8\\].*\"Wout\": {\"shape\": \\[8, 5\\].*\"bout\": {\"shape\": \\[5\\]"
  REQUIRES cli_model)

# ---- usage errors (exit 2) ----
tinyloop_cli_error(cli_err_no_command ARGS "--steps|5" RC 2 REGEX "expected a command before '--steps'")
tinyloop_cli_error(cli_err_unknown_command ARGS "trian" RC 2 REGEX "unknown command 'trian'; did you mean 'train'\\?")
tinyloop_cli_error(cli_err_unknown_flag ARGS "train|--stesp|5" RC 2
  REGEX "unknown flag '--stesp' for train; did you mean '--steps'\\?")
tinyloop_cli_error(cli_err_not_integer ARGS "train|--steps|12x" RC 2 REGEX "--steps expects an integer, got '12x'")
tinyloop_cli_error(cli_err_missing_value ARGS "train|--steps" RC 2 REGEX "--steps expects a value")
tinyloop_cli_error(cli_err_negative_steps ARGS "train|--steps|-5" RC 2 REGEX "--steps must be >= 0, got -5")
tinyloop_cli_error(cli_err_threads_zero ARGS "train|--threads|0" RC 2 REGEX "--threads must be between 1 and 1024")
tinyloop_cli_error(cli_err_threads_huge ARGS "train|--threads|5000" RC 2 REGEX "--threads must be between 1 and 1024")
tinyloop_cli_error(cli_err_lr ARGS "train|--lr|0" RC 2 REGEX "--lr must be > 0")
tinyloop_cli_error(cli_err_lr_nan ARGS "train|--lr|nan" RC 2 REGEX "--lr must be a finite number")
tinyloop_cli_error(cli_err_schedule ARGS "train|--schedule|cosin" RC 2 REGEX "did you mean 'cosine'")
tinyloop_cli_error(cli_err_lengths ARGS "train|--min-len|100|--max-len|50" RC 2 REGEX "--min-len \\(100\\) must be <= --max-len \\(50\\)")
tinyloop_cli_error(cli_err_repeated ARGS "train|--steps|5|--steps|6" RC 2 REGEX "--steps given more than once")
tinyloop_cli_error(cli_err_stray ARGS "eval|model.tlc" RC 2 REGEX "unexpected argument 'model.tlc' for eval")
tinyloop_cli_error(cli_err_eval_no_checkpoint ARGS "eval" RC 2 REGEX "eval needs --checkpoint")
tinyloop_cli_error(cli_err_eval_lengths ARGS "eval|--checkpoint|x.tlc|--lengths|64,,100" RC 2 REGEX "--lengths has an empty entry")
tinyloop_cli_error(cli_err_eval_lengths_text ARGS "eval|--checkpoint|x.tlc|--lengths|64,abc" RC 2
  REGEX "--lengths expects a comma-separated list of integers, got 'abc'")
tinyloop_cli_error(cli_err_eval_samples ARGS "eval|--checkpoint|x.tlc|--samples|0" RC 2 REGEX "--samples must be between 1 and")
tinyloop_cli_error(cli_err_infer_no_tokens ARGS "infer|--checkpoint|${cli_model}" RC 2 REGEX "infer needs --tokens")
tinyloop_cli_error(cli_err_infer_empty ARGS "infer|--checkpoint|${cli_model}|--tokens= , " RC 2 REGEX "--tokens is empty")
tinyloop_cli_error(cli_err_infer_not_int ARGS "infer|--checkpoint|${cli_model}|--tokens|0 1 x" RC 2
  REGEX "--tokens: 'x' at position 2 is not an integer")
tinyloop_cli_error(cli_err_infer_vocab ARGS "infer|--checkpoint|${cli_model}|--tokens|0 1 2 7" RC 2
  REGEX "token 7 at position 3 is outside the vocabulary .0, 4\\)" REQUIRES cli_model)
tinyloop_cli_error(cli_err_infer_negative ARGS "infer|--checkpoint|${cli_model}|--tokens|-1" RC 2
  REGEX "token -1 at position 0 is outside the vocabulary" REQUIRES cli_model)
tinyloop_cli_error(cli_err_train_exists ARGS "train|--steps|1|--out|${cli_run}" RC 2
  REGEX "already exists; pass --overwrite" REQUIRES cli_model)
tinyloop_cli_error(cli_err_export_over_checkpoint ARGS "export|--checkpoint|${cli_model}|--json|${cli_model}" RC 2
  REGEX "would overwrite the checkpoint" REQUIRES cli_model)

# ---- runtime errors (exit 1) ----
tinyloop_cli_error(cli_err_missing_checkpoint ARGS "eval|--checkpoint|${cli_work}/no-such-model.tlc" RC 1
  REGEX "cannot read checkpoint")
tinyloop_cli_error(cli_err_out_not_creatable ARGS "train|--steps|1|--out|${cli_model}/sub" RC 1
  REGEX "--out: cannot create directory .*model.tlc/sub" REQUIRES cli_model)
foreach(mode truncated empty garbage)
  add_test(NAME cli_make_${mode}
           COMMAND ${CMAKE_COMMAND} "-DSRC=${cli_model}" "-DDST=${cli_work}/${mode}.tlc" "-DMODE=${mode}"
                   -P ${cli_dir}/corrupt_copy.cmake)
  set_tests_properties(cli_make_${mode} PROPERTIES LABELS cli FIXTURES_SETUP cli_${mode} FIXTURES_REQUIRED cli_model)
  tinyloop_cli_error(cli_err_${mode}_checkpoint ARGS "eval|--checkpoint|${cli_work}/${mode}.tlc|--lengths|16" RC 1
    REGEX "checkpoint" REQUIRES cli_${mode})
  tinyloop_cli_error(cli_err_${mode}_export ARGS "export|--checkpoint|${cli_work}/${mode}.tlc|--json|${cli_work}/${mode}.json"
    RC 1 REGEX "checkpoint" REQUIRES cli_${mode})
endforeach()

# ---- Ctrl-C: SIGINT mid-run saves the checkpoint and exits 130 (needs coreutils timeout) ----
find_program(TINYLOOP_TIMEOUT_PROGRAM timeout)
if(TINYLOOP_TIMEOUT_PROGRAM)
  tinyloop_cli_ok(cli_train_interrupt
    LAUNCHER "${TINYLOOP_TIMEOUT_PROGRAM}|--preserve-status|-s|INT|2"
    ARGS "train|--steps|100000000|--batch|4|--threads|1|--max-len|32|--out|${cli_work}/interrupted|--overwrite"
    RC 130
    STDERR "interrupted at step [0-9]+"
    FILES "${cli_work}/interrupted/model.tlc|${cli_work}/interrupted/train_log.csv")
endif()
