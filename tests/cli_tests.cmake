# End-to-end tests of the tinyloop CLI (tools/cli), included from tests/CMakeLists.txt.
# A tiny training run is the fixture; eval, infer and export run on its checkpoint, and the
# error cases check the contract: non-zero exit, one "tinyloop: error: " line on stderr.
tinyloop_runner(tinyloop cli_exe)  # under qemu in a cross build (tests/CMakeLists.txt)
set(cli_dir "${CMAKE_CURRENT_SOURCE_DIR}/cli")
set(cli_work "${CMAKE_CURRENT_BINARY_DIR}/cli_work")
set(cli_run "${cli_work}/run")
set(cli_model "${cli_run}/model.tlc")
set(cli_alibi_model "${cli_work}/alibi/model.tlc")  # the default preset's (tinyloop-alibi)
set(cli_rope_model "${cli_work}/rope/model.tlc")

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
tinyloop_cli_ok(cli_help ARGS "--help" STDOUT "docs/MODEL.md.*train.*eval.*infer.*export.*reproduce.*sweep.*merge")
tinyloop_cli_error(cli_err_no_command_lists_all ARGS "" RC 2
  REGEX "missing command \\(train, eval, infer, export, reproduce, sweep or merge\\); try 'tinyloop --help'")
tinyloop_cli_ok(cli_train_help ARGS "train|--help" STDOUT "--steps N.*--eval-lengths")
tinyloop_cli_ok(cli_eval_help ARGS "eval|--help" STDOUT "--per-loop")
# Implausible but valid values: each flag's range is in --help, and a run outside it starts with
# a warning (the fault tests below rely on an absurd --lr running).
tinyloop_cli_ok(cli_train_help_ranges ARGS "train|--help"
  STDOUT "Plausible ranges \\(a value outside its range is accepted, with a warning.*--pe-scale -10..10, --mu 0..1, --alpha 0..10,.*--lr 1e-06..1,\n--weight-decay 0..1,.*--init-scale 0.01..10.\n$")
tinyloop_cli_ok(cli_warn_implausible_values
  ARGS "train|--lr|1e-9|--init-scale|50|--steps|0|--threads|1|--no-eval|--out|${cli_work}/implausible|--overwrite"
  STDERR "^tinyloop: warning: --lr 1e-09 is outside the plausible range 1e-06..1. [^\n]*\ntinyloop: warning: --init-scale 50 is outside the plausible range 0.01..10. ")

# ---- the fixture: a tiny training run ----
tinyloop_cli_ok(cli_train
  ARGS "train|--preset|lam2026|--steps|30|--batch|8|--threads|2|--seed|7|--eval-lengths|16,32|--eval-samples|8|--log-every|10|--out|${cli_run}|--overwrite"
  STDOUT "len +token_acc +seq_acc +positions"
  STDERR "step 30/30 +loss"
  FILES "${cli_model}|${cli_run}/train_log.csv|${cli_run}/eval.json"
  CHECK_FILE "${cli_run}/train_log.csv"
  CHECK_REGEX "^step,ce,potential,kinetic,tsallis,entropy,total,grad_norm,lr,acc,len\n10,[^\n]*\n20,[^\n]*\n30,"
  FIXTURE_SETUP cli_model)

# Relative positions (SPEC §1.1): the default preset (ALiBi) and RoPE, as tiny runs.
tinyloop_cli_ok(cli_train_alibi
  ARGS "train|--steps|30|--batch|8|--threads|2|--seed|7|--eval-lengths|16,300|--eval-samples|4|--log-every|10|--out|${cli_work}/alibi|--overwrite"
  STDOUT "len +token_acc +seq_acc +positions
 +16 [^
]*
 +300 "
  STDERR "step 30/30 +loss"
  FILES "${cli_alibi_model}|${cli_work}/alibi/eval.json"
  FIXTURE_SETUP cli_alibi)
tinyloop_cli_ok(cli_train_rope
  ARGS "train|--preset|lam2026|--positions|rope|--rope-base|100|--steps|10|--batch|4|--threads|1|--max-len|24|--eval-lengths|16|--eval-samples|4|--out|${cli_work}/rope|--overwrite"
  FILES "${cli_rope_model}" FIXTURE_SETUP cli_rope)
tinyloop_cli_ok(cli_eval_alibi_more_loops ARGS "eval|--checkpoint|${cli_alibi_model}|--lengths|16,50|--samples|4|--loops|10|--per-loop"
  STDOUT "positions alibi, loops 10 \\(trained with 8\\).*
 +50 +[0-9.]+% .*per-loop readout.*
 +10 +[0-9.]+ +[0-9.]+
"
  REQUIRES cli_alibi)
tinyloop_cli_ok(cli_export_alibi ARGS "export|--checkpoint|${cli_alibi_model}|--json|${cli_work}/export_alibi.json|--overwrite"
  CHECK_FILE "${cli_work}/export_alibi.json"
  CHECK_REGEX "\"positions\": \"alibi\".*\"alibi_rho\": 0.5.*\"bout\": {\"shape\": \\[5\\].*\"rho\": {\"shape\": \\[1\\], \"data\": \\[[-0-9.e]+\\]}"
  REQUIRES cli_alibi)
tinyloop_cli_ok(cli_export_rope ARGS "export|--checkpoint|${cli_rope_model}|--json|${cli_work}/export_rope.json|--overwrite"
  CHECK_FILE "${cli_work}/export_rope.json" CHECK_REGEX "\"positions\": \"rope\".*\"rope_base\": 100"
  REQUIRES cli_rope)
# export --c-array: the checkpoint without optimizer state (3,974 bytes for this ALiBi model, not
# the 11 KB file), its macros, and the host's test vector (examples/cortex_m runs it on a board).
tinyloop_cli_ok(cli_export_c_array
  ARGS "export|--checkpoint|${cli_alibi_model}|--c-array|${cli_work}/alibi_model.h|--max-len|32|--tokens|0 1 2 3 1 0 2|--overwrite"
  CHECK_FILE "${cli_work}/alibi_model.h"
  CHECK_REGEX "#ifndef MODEL_TINYLOOP_H\n#define MODEL_TINYLOOP_H\n\n#include <stdint.h>\n\n#define MODEL_CHECKPOINT_BYTES 3974\n#define MODEL_CRC32 0x[0-9A-F]+u .*#define MODEL_POSITIONS 2 .*#define MODEL_MAX_LEN 32 .*#define MODEL_ARENA_BYTES [0-9]+ .*static const uint8_t model_checkpoint\\[MODEL_CHECKPOINT_BYTES\\] = {\n  0x54, 0x4c, 0x4f, 0x4f, 0x50, 0x43, 0x4b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,\n.*#define MODEL_TEST_LEN 7\nstatic const int32_t model_test_tokens\\[MODEL_TEST_LEN\\] = {\n  0, 1, 2, 3, 1, 0, 2,\n}.*static const float model_test_logits\\[MODEL_TEST_LEN \\* MODEL_VOCAB_OUT\\] = {\n  -?[0-9.e-]+f, -?[0-9.e-]+f, -?[0-9.e-]+f, -?[0-9.e-]+f, -?[0-9.e-]+f,\n.*#endif"
  REQUIRES cli_alibi)
tinyloop_cli_ok(cli_export_c_array_name ARGS "export|--checkpoint|${cli_model}|--c-array|${cli_work}/tiny_net.h|--name|tiny_net|--overwrite"
  STDERR "wrote .*tiny_net.h" CHECK_FILE "${cli_work}/tiny_net.h"
  CHECK_REGEX "#define TINY_NET_CHECKPOINT_BYTES 3935\n.*#define TINY_NET_MAX_LEN 256 .*static const uint8_t tiny_net_checkpoint\\[TINY_NET_CHECKPOINT_BYTES\\]"
  REQUIRES cli_model)
tinyloop_cli_error(cli_err_export_two_outputs ARGS "export|--checkpoint|${cli_model}|--json|${cli_work}/a.json|--c-array|${cli_work}/a.h"
  RC 2 REGEX "export needs one of --json OUT.json or --c-array OUT.h")
tinyloop_cli_error(cli_err_export_no_output ARGS "export|--checkpoint|${cli_model}" RC 2
  REGEX "export needs one of --json OUT.json or --c-array OUT.h")
tinyloop_cli_error(cli_err_export_json_tokens ARGS "export|--checkpoint|${cli_model}|--json|${cli_work}/a.json|--tokens|0 1" RC 2
  REGEX "--tokens only applies to --c-array")
tinyloop_cli_error(cli_err_export_c_name ARGS "export|--checkpoint|${cli_model}|--c-array|${cli_work}/a.h|--name|9lives" RC 2
  REGEX "--name '9lives' is not a C identifier")
tinyloop_cli_error(cli_err_export_c_tokens_over ARGS "export|--checkpoint|${cli_model}|--c-array|${cli_work}/a.h|--max-len|4|--tokens|0 1 2 3 0"
  RC 2 REGEX "--tokens holds 5 tokens, more than --max-len 4")
tinyloop_cli_error(cli_err_export_c_token ARGS "export|--checkpoint|${cli_model}|--c-array|${cli_work}/a.h|--tokens|0 1 9" RC 2
  REGEX "--tokens: token 9 at position 2 is outside the vocabulary .0, 4\\)" REQUIRES cli_model)
tinyloop_cli_error(cli_err_export_c_over_checkpoint ARGS "export|--checkpoint|${cli_model}|--c-array|${cli_model}" RC 2
  REGEX "--c-array would overwrite the checkpoint" REQUIRES cli_model)
tinyloop_cli_error(cli_err_positions ARGS "train|--positions|alibbi" RC 2 REGEX "did you mean 'alibi'")
tinyloop_cli_error(cli_err_positions_twice ARGS "train|--positions|alibi|--no-positions" RC 2
  REGEX "--no-positions is --positions none; give one of the two")
tinyloop_cli_error(cli_err_alibi_rho_alone ARGS "train|--preset|lam2026|--alibi-rho|1" RC 2
  REGEX "--alibi-rho only applies to --positions alibi or alibi\\+sinusoidal")
tinyloop_cli_error(cli_err_alibi_rho_range ARGS "train|--alibi-rho|40" RC 2 REGEX "--alibi-rho must be in")
tinyloop_cli_error(cli_err_rope_base ARGS "train|--positions|rope|--rope-base|1" RC 2 REGEX "--rope-base must be > 1")
tinyloop_cli_error(cli_resume_refuses_positions ARGS "train|--resume|${cli_alibi_model}|--positions|rope|--stop-at|40" RC 2
  REGEX "--positions rope would change the run saved in '.*model.tlc' \\(it has alibi\\)" REQUIRES cli_alibi)

# ---- eval / infer / export on the checkpoint ----
tinyloop_cli_ok(cli_eval ARGS "eval|--checkpoint|${cli_model}|--lengths|16,40|--samples|8"
  STDOUT "len +token_acc +seq_acc +positions\n +16 +[0-9.]+% +[0-9.]+% +[0-9]+\n +40 "
  REQUIRES cli_model)
tinyloop_cli_ok(cli_eval_json ARGS "eval|--checkpoint|${cli_model}|--lengths|16|--samples|4|--per-loop|--json"
  STDOUT "^{.*\"results\": \\[.*\"len\": 16.*\"token_accuracy\": .*\"per_loop\": \\[[0-9.e-]+(, [0-9.e-]+)*\\]}.*\\]"
  REQUIRES cli_model)
# Values, not only the format: tests/frozen/forced_a2_v1.tlc is built to predict the other symbol
# after loops 1-2 (every target of the alphabet-2 task, whose sequences alternate) and class 0
# after loops 3-4 (half the targets at an even length, no whole sequence); see tests/frozen/README.md.
tinyloop_cli_ok(cli_eval_json_values
  ARGS "eval|--checkpoint|${CMAKE_CURRENT_SOURCE_DIR}/frozen/forced_a2_v1.tlc|--lengths|8,64|--samples|16|--per-loop|--json"
  STDOUT "\"results\": \\[\n +{\"len\": 8, \"token_accuracy\": 0\\.5, \"sequence_accuracy\": 0, \"positions\": 96, \"per_loop\": \\[1, 1, 0\\.5, 0\\.5\\]},\n +{\"len\": 64, \"token_accuracy\": 0\\.5, \"sequence_accuracy\": 0, \"positions\": 992, \"per_loop\": \\[1, 1, 0\\.5, 0\\.5\\]}\n +\\]")
tinyloop_cli_ok(cli_eval_per_loop ARGS "eval|--checkpoint|${cli_model}|--lengths|16|--samples|4|--per-loop"
  STDOUT "per-loop readout.*\n +25 +[0-9.]+\n"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_infer ARGS "infer|--checkpoint|${cli_model}|--tokens|0 1 2 3 0 1 2 3"
  STDOUT "pos +token +prediction\n +0 +0 +(NONE|[0-3])\n.* +7 +3 +(NONE|[0-3])\n"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_infer_json ARGS "infer|--checkpoint|${cli_model}|--tokens|0,1,2,3,0|--logits|--json"
  STDOUT "\"tokens\": \\[0, 1, 2, 3, 0\\],\n  \"predictions\": \\[[0-4](, [0-4])*\\],\n  \"logits\": \\[\n    \\[[-0-9.e]+, [-0-9.e]+, [-0-9.e]+, [-0-9.e]+, [-0-9.e]+\\],\n.*\\]"
  REQUIRES cli_model)
tinyloop_cli_ok(cli_export ARGS "export|--checkpoint|${cli_model}|--json|${cli_work}/export.json|--overwrite"
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
tinyloop_cli_error(cli_err_ramp ARGS "train|--ramp|1.5" RC 2 REGEX "--ramp must be in \\[0, 1\\], got 1.5")
tinyloop_cli_error(cli_err_init_scale ARGS "train|--init-scale|0" RC 2 REGEX "--init-scale must be > 0")
tinyloop_cli_error(cli_err_eta_final_alone ARGS "train|--eta-final|0.1" RC 2
  REGEX "--eta-final only applies with --eta-schedule cosine")
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
# --foreground: one SIGINT to the program, as a terminal's Ctrl-C sends. Without it timeout also
# signals its whole process group, and a second SIGINT means "kill now" to tinyloop.
find_program(TINYLOOP_TIMEOUT_PROGRAM timeout)
if(TINYLOOP_TIMEOUT_PROGRAM)
  tinyloop_cli_ok(cli_train_interrupt
    LAUNCHER "${TINYLOOP_TIMEOUT_PROGRAM}|--foreground|--preserve-status|-s|INT|2"
    ARGS "train|--steps|100000000|--batch|4|--threads|1|--max-len|32|--out|${cli_work}/interrupted|--overwrite"
    RC 130
    STDERR "interrupted at step [0-9]+"
    FILES "${cli_work}/interrupted/model.tlc|${cli_work}/interrupted/train_log.csv")
endif()

# ---- the README's 5-minute tour, run as written (the host's tour: not in a cross build) ----
if(NOT CMAKE_CROSSCOMPILING)
  add_test(NAME cli_readme_tour
           COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DREADME=${PROJECT_SOURCE_DIR}/README.md"
                   "-DTOOLS=${PROJECT_SOURCE_DIR}/tools" "-DWORK=${cli_work}/tour" -P ${cli_dir}/readme_tour.cmake)
  # Label "tour": the sanitizer leg leaves it out (its full-size evaluation takes minutes in a
  # Debug ASan build, and every path it runs is covered there by the other CLI tests).
  set_tests_properties(cli_readme_tour PROPERTIES LABELS "cli;tour" SKIP_REGULAR_EXPRESSION "SKIPPED: ")
endif()

# ---- progress: in place on a terminal (a pseudo-terminal from `script`), lines in a pipe ----
find_program(TINYLOOP_SCRIPT_PROGRAM script)
add_test(NAME cli_progress_display
         COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DWORK=${cli_work}/progress"
                 "-DSCRIPT=${TINYLOOP_SCRIPT_PROGRAM}" -P ${cli_dir}/progress_display.cmake)
set_tests_properties(cli_progress_display PROPERTIES LABELS cli)

# ---- reliability: resume, periodic saves, numerical faults, damaged files ----
# A test-only helper that writes damaged checkpoints (a flipped bit, a NaN weight with a valid
# CRC, a cut-off tail); make_reliability_files.cmake builds the fixture files with it.
add_executable(damage_checkpoint ${cli_dir}/damage_checkpoint.cpp)
target_link_libraries(damage_checkpoint PRIVATE tinyloop_engine)  # checkpoint_crc32 to reseal
set(cli_rel "${cli_work}/reliability")
tinyloop_runner(damage_checkpoint damage_exe)  # under qemu in a cross build
add_test(NAME cli_make_reliability_files
         COMMAND ${CMAKE_COMMAND} "-DSRC=${cli_model}" "-DDIR=${cli_rel}" "-DDAMAGE=${damage_exe}"
                 "-DMAX_TOKENS=1048576" -P ${cli_dir}/make_reliability_files.cmake)
set_tests_properties(cli_make_reliability_files PROPERTIES LABELS cli FIXTURES_SETUP cli_rel FIXTURES_REQUIRED cli_model)

# tinyloop_cli_keeps(NAME ARGS <a|b> RC <code> REGEX <regex> [SAME f=ref|...] [NO_TEMP_IN dir]
#                    [FILE_SIZE_LIMIT blocks] [ONE_LINE])   (needs the cli_rel fixture)
function(tinyloop_cli_keeps name)
  cmake_parse_arguments(T "ONE_LINE" "ARGS;RC;REGEX;SAME;NO_TEMP_IN;FILE_SIZE_LIMIT" "" ${ARGN})
  set(defs "-DTINYLOOP=${cli_exe}" "-DARGS=${T_ARGS}" "-DEXPECT_RC=${T_RC}" "-DREGEX=${T_REGEX}")
  foreach(opt SAME NO_TEMP_IN FILE_SIZE_LIMIT)
    if(DEFINED T_${opt})
      list(APPEND defs "-D${opt}=${T_${opt}}")
    endif()
  endforeach()
  if(T_ONE_LINE)
    list(APPEND defs "-DONE_LINE=ON")
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${cli_dir}/expect_error_keeps_files.cmake)
  set_tests_properties(${name} PROPERTIES LABELS cli FIXTURES_REQUIRED cli_rel)
endfunction()

# Resume: stop at k and resume to K gives the uninterrupted run's checkpoint byte for byte;
# --save-every N --keep-checkpoints writes model-step<k>.tlc at every period.
add_test(NAME cli_resume_bit_identical
         COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DWORK=${cli_work}/resume"
                 -P ${cli_dir}/resume_identical.cmake)
set_tests_properties(cli_resume_bit_identical PROPERTIES LABELS cli)
# The same with the entropy schedule, whose target follows the step, a scaled initialisation
# and another curriculum ramp (checkpoint format 2).
add_test(NAME cli_resume_bit_identical_eta_schedule
         COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DWORK=${cli_work}/resume_eta"
                 "-DEXTRA=--eta-schedule\;cosine\;--eta\;1\;--eta-final\;0\;--lambda-s\;0.5\;--init-scale\;0.5\;--ramp\;0.25"
                 -DEXPECT_VERSION=2
                 -P ${cli_dir}/resume_identical.cmake)
set_tests_properties(cli_resume_bit_identical_eta_schedule PROPERTIES LABELS cli)
# The same with ALiBi (format 3, the learned slope rho in every tensor set).
add_test(NAME cli_resume_bit_identical_alibi
         COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DWORK=${cli_work}/resume_alibi"
                 "-DEXTRA=--positions\;alibi\;--lr\;0.01" -DEXPECT_VERSION=3
                 -P ${cli_dir}/resume_identical.cmake)
set_tests_properties(cli_resume_bit_identical_alibi PROPERTIES LABELS cli)
tinyloop_cli_ok(cli_save_every
  ARGS "train|--steps|12|--batch|2|--threads|1|--min-len|8|--max-len|12|--save-every|4|--keep-checkpoints|--no-eval|--log-every|4|--out|${cli_work}/periodic|--overwrite"
  FILES "${cli_work}/periodic/model-step4.tlc|${cli_work}/periodic/model-step8.tlc|${cli_work}/periodic/model-step12.tlc|${cli_work}/periodic/model.tlc"
  CHECK_FILE "${cli_work}/periodic/train_log.csv" CHECK_REGEX "\n4,[^\n]*\n8,[^\n]*\n12,")
# A resumed run keeps its configuration: a changed flag is refused before anything is written.
tinyloop_cli_error(cli_resume_refuses_changed_lr ARGS "train|--resume|${cli_model}|--lr|0.01|--stop-at|40" RC 2
  REGEX "--lr 0.01 would change the run saved in '.*model.tlc' \\(it has 0.001\\)" REQUIRES cli_model)
tinyloop_cli_error(cli_resume_refuses_eta_schedule ARGS "train|--resume|${cli_model}|--eta-schedule|cosine|--eta-final|0.5|--stop-at|40" RC 2
  REGEX "--eta-schedule cosine would change the run saved in '.*model.tlc' \\(it has constant\\)" REQUIRES cli_model)
tinyloop_cli_error(cli_resume_refuses_changed_steps ARGS "train|--resume|${cli_model}|--steps|50" RC 2
  REGEX "--steps 50 would change the plan of .*use --stop-at K" REQUIRES cli_model)
tinyloop_cli_error(cli_resume_refuses_switch ARGS "train|--resume|${cli_model}|--no-mask|--stop-at|40" RC 2
  REGEX "--no-mask would change the run saved in .*it has causal mask" REQUIRES cli_model)
tinyloop_cli_error(cli_resume_refuses_preset ARGS "train|--resume|${cli_model}|--preset|lam2026" RC 2
  REGEX "--preset cannot be combined with --resume" REQUIRES cli_model)
tinyloop_cli_error(cli_resume_at_end ARGS "train|--resume|${cli_model}" RC 2
  REGEX "is already at step 30, the end of its 30-step plan; pass --stop-at K" REQUIRES cli_model)
tinyloop_cli_error(cli_resume_stop_before ARGS "train|--resume|${cli_model}|--stop-at|20" RC 2
  REGEX "--stop-at 20 must be greater than the checkpoint's step 30" REQUIRES cli_model)

# Numerical faults. An absurd but valid learning rate (1e30) blows the weights up at step 1; from
# step 2 the forward pass is not finite. Each such step is reported with its number and the term
# that broke, skipped (weights untouched) and counted in the progress line.
set(fault_term "(cross-entropy|potential|kinetic|tsallis entropy|total loss|gradient|weight update)")
tinyloop_cli_ok(cli_fault_reported_and_skipped
  ARGS "train|--lr|1e30|--steps|6|--batch|2|--threads|1|--min-len|8|--max-len|12|--log-every|2|--no-eval|--out|${cli_work}/fault|--overwrite"
  STDERR "^tinyloop: warning: --lr 1e\\+30 is outside the plausible range 1e-06..1. the run goes ahead, but expect it to diverge or to learn nothing\n.*step 2: non-finite ${fault_term}; update skipped, weights unchanged \\(1 skipped so far\\)\n.*step 6/6 [^\n]* skipped 5 \\(last: ${fault_term}\\)\n.*trained 6 steps [^\n]*, 5 skipped")
# --max-skipped N consecutive skipped steps end the run: exit 1, the steps and the term named.
tinyloop_cli_keeps(cli_fault_max_skipped
  ARGS "train|--lr|1e30|--steps|20|--max-skipped|3|--batch|2|--threads|1|--min-len|8|--max-len|12|--no-eval|--out|${cli_rel}/diverged|--overwrite"
  RC 1 REGEX "3 consecutive steps skipped \\(steps 2-4, last fault: non-finite ${fault_term}\\); the run diverged: try a lower --lr")
# Every step non-finite (positions scaled by 3e38 overflow the first LayerNorm): after 5 skipped
# steps the weights are exactly the initial ones, those of the same run with 0 steps.
add_test(NAME cli_fault_weights_untouched
         COMMAND ${CMAKE_COMMAND} "-DTINYLOOP=${cli_exe}" "-DWORK=${cli_work}/untouched"
                 -P ${cli_dir}/fault_weights_untouched.cmake)
set_tests_properties(cli_fault_weights_untouched PROPERTIES LABELS cli)

# Damaged checkpoints: one error line, exit 1, and nothing good is overwritten.
tinyloop_cli_keeps(cli_err_flipped_checkpoint ARGS "eval|--checkpoint|${cli_rel}/flipped.tlc|--lengths|16" RC 1 ONE_LINE
  REGEX "checkpoint '.*flipped.tlc' is not valid: checksum mismatch")
tinyloop_cli_keeps(cli_err_nan_checkpoint ARGS "infer|--checkpoint|${cli_rel}/nan.tlc|--tokens|0 1 2" RC 1 ONE_LINE
  REGEX "checkpoint '.*nan.tlc' is not valid: non-finite value in tensor 'E' at index 0")
tinyloop_cli_keeps(cli_err_cut_checkpoint ARGS "eval|--checkpoint|${cli_rel}/cut.tlc|--lengths|16" RC 1 ONE_LINE
  REGEX "checkpoint '.*cut.tlc' is not valid: truncated")
tinyloop_cli_keeps(cli_err_resume_flipped ARGS "train|--resume|${cli_rel}/bad/model.tlc|--stop-at|40|--no-eval" RC 1 ONE_LINE
  REGEX "checkpoint '.*bad/model.tlc' is not valid: checksum mismatch"
  SAME "${cli_rel}/bad/model.tlc=${cli_rel}/bad/reference.tlc")
tinyloop_cli_keeps(cli_err_resume_nan_keeps_run ARGS "train|--resume|${cli_rel}/nan.tlc|--out|${cli_rel}/guard|--stop-at|40|--no-eval" RC 1 ONE_LINE
  REGEX "non-finite value in tensor 'E'" SAME "${cli_rel}/guard/model.tlc=${cli_rel}/guard/reference.tlc")
# An existing export is replaced only with --overwrite.
tinyloop_cli_keeps(cli_err_export_exists ARGS "export|--checkpoint|${cli_model}|--json|${cli_rel}/guard/existing.json" RC 2 ONE_LINE
  REGEX "'.*guard/existing.json' already exists; pass --overwrite to replace it"
  SAME "${cli_rel}/guard/existing.json=${cli_rel}/guard/existing.reference.json")
tinyloop_cli_keeps(cli_err_export_keeps_json ARGS "export|--checkpoint|${cli_rel}/flipped.tlc|--json|${cli_rel}/guard/existing.json" RC 1 ONE_LINE
  REGEX "checksum mismatch" SAME "${cli_rel}/guard/existing.json=${cli_rel}/guard/existing.reference.json")
# A save that fails (a file-size limit stands in for a full disk) reports the step, keeps the
# previous checkpoint intact and leaves no temporary file behind.
tinyloop_cli_keeps(cli_err_save_fails_keeps_previous
  ARGS "train|--resume|${cli_rel}/guard/model.tlc|--stop-at|32|--threads|1|--no-eval" FILE_SIZE_LIMIT 8
  RC 1 REGEX "checkpoint of step 32 not saved: .*File too large.*'.*guard/model.tlc', if any, is untouched"
  SAME "${cli_rel}/guard/model.tlc=${cli_rel}/guard/reference.tlc" NO_TEMP_IN "${cli_rel}/guard")

# infer input: token files with bad ids, empty input, sequences over capacity.
set(tok "${cli_rel}/tokens")
tinyloop_cli_ok(cli_infer_tokens_file ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/good.txt"
  STDOUT "pos +token +prediction\n.* +7 +3 +(NONE|[0-3])\n$" REQUIRES cli_rel)
tinyloop_cli_keeps(cli_err_tokens_file_bad_id ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/bad_id.txt" RC 1 ONE_LINE
  REGEX "tokens file '.*bad_id.txt': token 4 at position 5 is outside the vocabulary .0, 4\\)")
tinyloop_cli_keeps(cli_err_tokens_file_not_int ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/not_int.txt" RC 1 ONE_LINE
  REGEX "tokens file '.*not_int.txt': '1.5' at position 5 is not an integer")
tinyloop_cli_keeps(cli_err_tokens_file_empty ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/empty.txt" RC 1 ONE_LINE
  REGEX "tokens file '.*empty.txt' is empty")
tinyloop_cli_keeps(cli_err_tokens_file_blank ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/blank.txt" RC 1 ONE_LINE
  REGEX "tokens file '.*blank.txt' is empty")
tinyloop_cli_keeps(cli_err_tokens_file_binary ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${cli_model}" RC 1 ONE_LINE
  REGEX "tokens file '.*model.tlc' is not text")
tinyloop_cli_keeps(cli_err_tokens_file_missing ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/no-such.txt" RC 1 ONE_LINE
  REGEX "cannot read tokens file '.*no-such.txt'")
tinyloop_cli_keeps(cli_err_tokens_over_capacity ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${tok}/too_long.txt" RC 1 ONE_LINE
  REGEX "tokens file '.*too_long.txt' holds more than 1048576 tokens, the longest sequence this tool runs")
tinyloop_cli_error(cli_err_tokens_both ARGS "infer|--checkpoint|x.tlc|--tokens|0|--tokens-file|t.txt" RC 2
  REGEX "give either --tokens or --tokens-file, not both")

# ---- bounded inputs: no read without a cap ----
# Each input below would take gigabytes (or forever) if read whole. The CLI must refuse it within
# seconds with one line naming the limit, under a 64 MiB address-space limit natively (under qemu
# and ASan, which reserve more than that on their own, the limit is left out).
set(cli_bound "${cli_work}/bounded")
set(cli_memory_kb 65536)
if(CMAKE_CROSSCOMPILING OR CMAKE_CXX_FLAGS MATCHES "fsanitize=address")
  set(cli_memory_kb "")
endif()
set(gigabyte 1073741824)
add_test(NAME cli_make_bounded_files
         COMMAND ${CMAKE_COMMAND} "-DSRC=${cli_model}" "-DDIR=${cli_bound}" "-DDAMAGE=${damage_exe}"
                 "-DGIGABYTE=${gigabyte}" -P ${cli_dir}/make_bounded_files.cmake)
set_tests_properties(cli_make_bounded_files PROPERTIES LABELS cli FIXTURES_SETUP cli_bound FIXTURES_REQUIRED cli_model)

# tinyloop_cli_bounded(NAME ARGS <a|b> REGEX <regex> [FIFO path] [STDIN file])
function(tinyloop_cli_bounded name)
  cmake_parse_arguments(T "" "ARGS;REGEX;FIFO;STDIN" "" ${ARGN})
  set(defs "-DTINYLOOP=${cli_exe}" "-DARGS=${T_ARGS}" "-DEXPECT_RC=1" "-DREGEX=${T_REGEX}"
           "-DMEMORY_KB=${cli_memory_kb}")
  foreach(opt FIFO STDIN)
    if(DEFINED T_${opt})
      list(APPEND defs "-D${opt}=${T_${opt}}")
    endif()
  endforeach()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${cli_dir}/expect_bounded.cmake)
  set_tests_properties(${name} PROPERTIES LABELS cli FIXTURES_REQUIRED cli_bound TIMEOUT 60)
endfunction()

set(not_regular "only regular files are read")
foreach(dev zero urandom)
  tinyloop_cli_bounded(cli_bound_checkpoint_dev_${dev} ARGS "eval|--checkpoint|/dev/${dev}"
    REGEX "cannot read checkpoint: '/dev/${dev}' is a character device. ${not_regular}")
  tinyloop_cli_bounded(cli_bound_tokens_dev_${dev} ARGS "infer|--checkpoint|${cli_model}|--tokens-file|/dev/${dev}"
    REGEX "cannot read tokens file '/dev/${dev}': '/dev/${dev}' is a character device. ${not_regular}")
endforeach()
tinyloop_cli_bounded(cli_bound_checkpoint_fifo ARGS "eval|--checkpoint|${cli_bound}/model.fifo" FIFO "${cli_bound}/model.fifo"
  REGEX "cannot read checkpoint: '.*model.fifo' is a FIFO. ${not_regular}")
tinyloop_cli_bounded(cli_bound_tokens_fifo ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${cli_bound}/tokens.fifo"
  FIFO "${cli_bound}/tokens.fifo" REGEX "'.*tokens.fifo' is a FIFO. ${not_regular}")
tinyloop_cli_bounded(cli_bound_checkpoint_stdin ARGS "eval|--checkpoint|/dev/stdin" STDIN /dev/zero
  REGEX "cannot read checkpoint: '/dev/stdin' is a character device. ${not_regular}")
# stdin is read as a stream, up to the cap.
tinyloop_cli_bounded(cli_bound_tokens_stdin_dev_zero ARGS "infer|--checkpoint|${cli_model}|--tokens-file|-" STDIN /dev/zero
  REGEX "stdin is larger than 16 MiB. no sequence of at most 1048576 tokens is that long")

# A 1 GB sparse file: of zeros, a valid checkpoint followed by zeros, a valid header declaring
# 2^62 bytes; and a valid checkpoint with one byte more.
tinyloop_cli_bounded(cli_bound_checkpoint_sparse_1g ARGS "eval|--checkpoint|${cli_bound}/zeros_1g.bin"
  REGEX "zeros_1g.bin' is not valid: not a tinyloop checkpoint \\(bad magic\\)")
tinyloop_cli_bounded(cli_bound_checkpoint_trailing_1g ARGS "eval|--checkpoint|${cli_bound}/trailing_1g.tlc"
  REGEX "trailing_1g.tlc' is not valid: it has more than the [0-9]+ bytes its header declares \\(trailing data\\)")
tinyloop_cli_bounded(cli_bound_checkpoint_declares_huge ARGS "eval|--checkpoint|${cli_bound}/declares_huge.tlc"
  REGEX "declares_huge.tlc' is not valid: size mismatch: header declares 4611686018427387904 bytes, its configuration implies [0-9]+")
tinyloop_cli_bounded(cli_bound_checkpoint_trailing_byte ARGS "infer|--checkpoint|${cli_bound}/trailing_byte.tlc|--tokens|0 1"
  REGEX "trailing_byte.tlc' is not valid: it has more than the [0-9]+ bytes its header declares \\(trailing data\\)")
tinyloop_cli_bounded(cli_bound_tokens_sparse_1g ARGS "infer|--checkpoint|${cli_model}|--tokens-file|${cli_bound}/zeros_1g.bin"
  REGEX "tokens file '.*zeros_1g.bin' is larger than 16 MiB. no sequence of at most 1048576 tokens is that long")
tinyloop_cli_bounded(cli_bound_sweep_spec_sparse_1g ARGS "sweep|${cli_bound}/zeros_1g.bin"
  REGEX "sweep spec '.*zeros_1g.bin' is larger than 1 MiB, the most a sweep spec may hold")
tinyloop_cli_bounded(cli_bound_sweep_spec_dev_zero ARGS "sweep|/dev/zero"
  REGEX "cannot read sweep spec '/dev/zero': '/dev/zero' is a character device. ${not_regular}")
tinyloop_cli_error(cli_bound_sweep_runs ARGS "sweep|${cli_bound}/many_runs.txt" RC 2
  REGEX "many_runs.txt:2: expands into more than 10000 runs, the most a sweep may have" REQUIRES cli_bound)
tinyloop_cli_bounded(cli_bound_merge_eval_json_1g ARGS "merge|${cli_bound}/merge"
  REGEX "'.*merge/run/eval.json' is larger than 1 MiB, the most an eval.json may hold")
tinyloop_cli_bounded(cli_bound_merge_train_log ARGS "merge|${cli_bound}/merge_log"
  REGEX "'.*merge_log/run/train_log.csv' is larger than the [0-9]+ bytes a training log of 30 steps holds")

# ---- reproduce icar (studies/icar), where the target has the study: parts (a), (d), (e) and (f) ----
if(TARGET tinyloop_study_icar)
  tinyloop_cli_ok(cli_reproduce_icar_theory
    ARGS "reproduce|icar|--steps|20|--plain-steps|0|--softmax-steps|0|--theory-seeds|1|--eval-sequences|64|--authors-seeds|1|--authors-epochs|1|--authors-sequences|64|--authors-batch|32|--gated-seeds|1|--gated-heads|2|--gated-epochs|1|--gated-sequences|64|--gated-batch|32|--quiet|--out|${cli_work}/icar"
    STDOUT "authors' non-augmented model, seed 1: mean MSE [^\n]*\nauthors' augmented model, seed 1: mean MSE [^\n]*\ntheory: Fig. 3 unitary c P.t,t\\+1. 1.000000 to 1.000000, orthogonal c P.t,t. -0.500000; [^\n]*\ncommuting: [^\n]*\nnon-commuting: [^\n]*\nwrote [^\n]*report.md, loss_vs_t.csv, loss_vs_t.svg, fig3_theory.svg, fig6_pe_only.svg, fig6_last_row.csv, authors_loss_vs_t.csv, authors_loss_vs_t.svg, authors_blocks.svg, gated_loss_vs_t.csv, gated_loss_vs_t.svg, gated_maps.svg"
    CHECK_FILE "${cli_work}/icar/fig6_last_row.csv"
    CHECK_REGEX "^mu,j,last_row\n50,0,")
endif()

# ---- reproduce retrieval (studies/retrieval): a tiny cell with both curricula, a refused setting ----
tinyloop_cli_ok(cli_reproduce_retrieval_smoke
  ARGS "reproduce|retrieval|--K|2|--chains|2|--layers|1|--width|16|--steps|20|--eval-every|10|--eval-instances|16|--quiet|--out|${cli_work}/retrieval"
  STDOUT "curriculum on, .*curriculum off, .*wrote [^\n]*report.md, accuracy.csv, accuracy.svg, roles.csv, attention.svg, model-curriculum-on.tlc, model-curriculum-off.tlc"
  FILES "${cli_work}/retrieval/report.md|${cli_work}/retrieval/accuracy.csv|${cli_work}/retrieval/accuracy.svg|${cli_work}/retrieval/roles.csv|${cli_work}/retrieval/attention.svg|${cli_work}/retrieval/model-curriculum-on.tlc|${cli_work}/retrieval/model-curriculum-off.tlc"
  CHECK_FILE "${cli_work}/retrieval/accuracy.csv"
  CHECK_REGEX "^curriculum,layers,heads,width,looped,seed,step,train_loss,query,depth1,depth2\non,1,2,16,0,1,0,"
  FIXTURE_SETUP cli_retrieval_model)
# A study's model (checkpoint format version 4) is refused clearly by the commands that run the
# looped block only.
foreach(command eval infer export train)
  set(extra "")
  if(command STREQUAL "infer")
    set(extra "|--tokens|0 1")
  elseif(command STREQUAL "export")
    set(extra "|--json|${cli_work}/retrieval/never.json")
  elseif(command STREQUAL "train")
    set(extra "|--out|${cli_work}/retrieval/never")
  endif()
  set(flag "--checkpoint")
  if(command STREQUAL "train")
    set(flag "--resume")
  endif()
  tinyloop_cli_error(cli_err_${command}_study_model
    ARGS "${command}|${flag}|${cli_work}/retrieval/model-curriculum-on.tlc${extra}" RC 1
    REGEX "model-curriculum-on.tlc' holds a 1-layer model with 2 heads of width 16 \\(format version 4, written by a study\\); this command runs the looped block of `tinyloop train` only"
    REQUIRES cli_retrieval_model)
endforeach()
# Relative positions for the study's cells (beyond SPEC §4.2's learned or none): the report names them.
tinyloop_cli_ok(cli_reproduce_retrieval_rope
  ARGS "reproduce|retrieval|--K|2|--chains|2|--layers|1|--width|16|--positions|rope|--curriculum|on|--steps|20|--eval-every|10|--eval-instances|16|--quiet|--out|${cli_work}/retrieval-rope"
  CHECK_FILE "${cli_work}/retrieval-rope/report.md"
  CHECK_REGEX "1 layers, 2 heads, width 16, RoPE positions, ")
tinyloop_cli_error(cli_err_retrieval_positions ARGS "reproduce|retrieval|--positions|sinusoidal|--quiet" RC 2
  REGEX "--positions expects 'learned' or 'none' or 'rope' or 'alibi', got 'sinusoidal'")
tinyloop_cli_error(cli_err_retrieval_too_few_variables ARGS "reproduce|retrieval|--K|9|--quiet" RC 2
  REGEX "4 chains of depth up to 9 need 36 distinct variables, only 32 exist")
# The layers-vs-K table: two tiny searches (each in its own folder, as a dispatched search would
# write them), their merge, the dispatch commands, a K the variables cannot hold, a bad merge.
# Their folders (and the counted table's below) start empty, so that an earlier build's cells
# (other settings, or other results) are not resumed.
add_test(NAME cli_reproduce_retrieval_table_clean
         COMMAND ${CMAKE_COMMAND} -E rm -rf "${cli_work}/rtable" "${cli_work}/rcounted")
set_tests_properties(cli_reproduce_retrieval_table_clean PROPERTIES FIXTURES_SETUP cli_rtable_clean LABELS cli)
tinyloop_cli_ok(cli_reproduce_retrieval_table
  ARGS "reproduce|retrieval|--table|--Ks|2|--seeds|1|--kinds|stacked|--max-layers|2|--width|16|--steps|20|--eval-every|10|--eval-instances|16|--quiet|--out|${cli_work}/rtable/K2-stacked-seed1"
  STDOUT "retrieval table: K 2 stacked: (1|2|>2)\nwrote "
  FILES "${cli_work}/rtable/K2-stacked-seed1/table.md|${cli_work}/rtable/K2-stacked-seed1/table.csv"
  CHECK_FILE "${cli_work}/rtable/K2-stacked-seed1/table.csv"
  CHECK_REGEX "^K,kind,layers,seed,query,reached,steps,seconds,params\n2,stacked,1,1,"
  FIXTURE_SETUP cli_rtable_stacked
  REQUIRES cli_rtable_clean)
# The same table again: its cells were saved as they finished (cells.csv), so none is trained
# again; a table with other settings in that folder is refused.
tinyloop_cli_ok(cli_reproduce_retrieval_table_resume
  ARGS "reproduce|retrieval|--table|--Ks|2|--seeds|1|--kinds|stacked|--max-layers|2|--width|16|--steps|20|--eval-every|10|--eval-instances|16|--quiet|--out|${cli_work}/rtable/K2-stacked-seed1"
  STDOUT "retrieval table: K 2 stacked: (1|2|>2)\nwrote "
  STDERR "resuming: the [12] cells in [^\n]*K2-stacked-seed1/cells.csv are not trained again"
  REQUIRES cli_rtable_stacked)
tinyloop_cli_error(cli_err_retrieval_table_resume_other
  ARGS "reproduce|retrieval|--table|--Ks|2|--seeds|1|--kinds|stacked|--max-layers|2|--width|16|--steps|30|--eval-every|10|--eval-instances|16|--quiet|--out|${cli_work}/rtable/K2-stacked-seed1" RC 2
  REGEX "K2-stacked-seed1' holds the cells of another table: steps 20 \\(this table: steps 30\\); use another --out"
  REQUIRES cli_rtable_stacked)
tinyloop_cli_ok(cli_reproduce_retrieval_table_looped
  ARGS "reproduce|retrieval|--table|--Ks|2|--seeds|1|--kinds|looped|--max-layers|1|--width|16|--steps|20|--eval-every|10|--eval-instances|16|--quiet|--out|${cli_work}/rtable/K2-looped-seed1"
  STDOUT "retrieval table: K 2 looped: (1|>1)\nwrote "
  FIXTURE_SETUP cli_rtable_looped
  REQUIRES cli_rtable_clean)
tinyloop_cli_ok(cli_reproduce_retrieval_merge ARGS "reproduce|retrieval|--merge|${cli_work}/rtable"
  STDOUT "K 2 stacked: [^\n]*\nretrieval table: K 2 looped: [^\n]*\nwrote "
  FILES "${cli_work}/rtable/table.md|${cli_work}/rtable/table.csv"
  REQUIRES cli_rtable_stacked cli_rtable_looped)
# A single-cell run (the smoke run above, curriculum on and off) counted as the cell it equals
# (--cells-from), in a folder that starts empty; a run with other settings than the table's is
# refused, naming the setting; --cells-from needs a table.
tinyloop_cli_ok(cli_reproduce_retrieval_table_cells_from
  ARGS "reproduce|retrieval|--table|--Ks|2|--seeds|1|--kinds|stacked|--max-layers|1|--chains|2|--width|16|--steps|20|--eval-every|10|--eval-instances|16|--lr|0.003|--quiet|--cells-from|${cli_work}/retrieval|--out|${cli_work}/rcounted"
  STDOUT "retrieval table: K 2 stacked: (1|>1)\nwrote "
  STDERR "--cells-from: [^\n]*/retrieval counted as the cell K 2 stacked 1 layers seed 1\n"
  CHECK_FILE "${cli_work}/rcounted/cells.csv"
  CHECK_REGEX "^K,kind,layers,seed,query,reached,steps,seconds,params\n2,stacked,1,1,"
  REQUIRES cli_retrieval_model cli_rtable_clean)
tinyloop_cli_error(cli_err_retrieval_cells_from_other
  ARGS "reproduce|retrieval|--table|--Ks|2|--seeds|1|--kinds|stacked|--max-layers|1|--chains|2|--width|16|--steps|20|--eval-every|10|--eval-instances|16|--quiet|--cells-from|${cli_work}/retrieval|--out|${cli_work}/rcounted-never" RC 1
  REGEX "--cells-from [^:]*/retrieval: trained with other settings than this table's: lr 0.003 \\(the table: lr 0.001\\)"
  REQUIRES cli_retrieval_model)
tinyloop_cli_error(cli_err_retrieval_cells_from_no_table
  ARGS "reproduce|retrieval|--cells-from|${cli_work}/retrieval|--quiet" RC 2
  REGEX "--cells-from counts runs as the cells of a --table")
tinyloop_cli_ok(cli_reproduce_retrieval_print_commands
  ARGS "reproduce|retrieval|--table|--Ks|2,4|--seeds|1|--steps|50|--out|${cli_work}/rcmds|--print-commands"
  STDOUT "^tinyloop reproduce retrieval --table --steps 50 --Ks 2 --seeds 1 --kinds stacked --threads 1 --out [^\n]*/rcmds/K2-stacked-seed1\ntinyloop [^\n]*K2-looped-seed1\ntinyloop [^\n]*K4-stacked-seed1\ntinyloop [^\n]*K4-looped-seed1\n$")
tinyloop_cli_error(cli_err_retrieval_table_K ARGS "reproduce|retrieval|--table|--Ks|2,17|--quiet" RC 2
  REGEX "--Ks 17: 2 chains of depth up to 17 need 34 distinct variables, only 32 exist")
tinyloop_cli_error(cli_err_retrieval_merge_empty ARGS "reproduce|retrieval|--merge|${cli_work}/rcmds-none" RC 1
  REGEX "cannot list '.*rcmds-none'")
