# sweep, merge and reproduce end to end on tiny runs: `sweep` prints one checked command per run, the commands
# write eval.json, `merge` builds the table and CSVs from them, `reproduce` writes its report,
# CSVs and SVGs and keeps finished runs on a second call. Contents are checked, not only exits.
#   cmake -DTINYLOOP=<exe> -DWORK=<dir> -P reproduce_sweep.cmake
if(NOT DEFINED TINYLOOP OR NOT DEFINED WORK)
  message(FATAL_ERROR "reproduce_sweep.cmake needs -DTINYLOOP and -DWORK")
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(run_ok out_var err_var)
  execute_process(COMMAND "${TINYLOOP}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tinyloop ${ARGN}: exit ${rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()
function(expect_match text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what} does not match '${regex}':\n${text}")
  endif()
endfunction()
function(expect_lines file count)
  file(STRINGS "${file}" lines)
  list(LENGTH lines n)
  if(NOT n EQUAL ${count})
    message(FATAL_ERROR "${file}: ${n} lines, expected ${count}")
  endif()
endfunction()

# Runs every line `sweep` printed; the first failure stops the test.
function(run_printed commands)
  string(REGEX REPLACE "\n$" "" commands "${commands}")
  string(REPLACE "\n" ";" lines "${commands}")
  foreach(line IN LISTS lines)
    separate_arguments(argv UNIX_COMMAND "${line}")
    execute_process(COMMAND ${argv} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "sweep command failed (${rc}): ${line}\n${err}")
    endif()
  endforeach()
endfunction()

# ---- sweep ----
set(spec "${WORK}/spec.txt")
file(WRITE "${spec}" "# tiny sweep\nout ${WORK}/sweep\nseeds 1,2\n"
     "common --preset lam2026 --steps 12 --threads 1 --min-len 6 --max-len 12 --loops 2 --eval-lengths 12,20 --eval-samples 2 --save-every 0\n"
     "run base   # the paper's recipe\n"
     "run best --preset tinyloop-induction\n"
     "grid g --lambda-p 0,0.5 --loops 2,3\n")
run_ok(count err sweep "${spec}" --count)
expect_match("${count}" "^12\n$" "sweep --count")
run_ok(cmds err sweep "${spec}" --bin "${TINYLOOP}")
string(REGEX REPLACE "\n$" "" cmds "${cmds}")
string(REPLACE "\n" ";" cmd_list "${cmds}")
list(LENGTH cmd_list n)
if(NOT n EQUAL 12)
  message(FATAL_ERROR "sweep printed ${n} commands, expected 12:\n${cmds}")
endif()
expect_match("${cmds}" " train --preset lam2026 --steps 12 [^\n]* --seed 2 --out [^\n]*/sweep/base/seed2\n" "sweep commands")
expect_match("${cmds}" "--lambda-p 0 --loops 3 --seed 1 --out [^\n]*/sweep/g_lambda-p0_loops3/seed1" "grid command")
expect_match("${cmds}" "--preset tinyloop-induction" "preset command")
run_printed("${cmds}")
foreach(run base best g_lambda-p0_loops2 g_lambda-p0.5_loops3)
  foreach(seed 1 2)
    if(NOT EXISTS "${WORK}/sweep/${run}/seed${seed}/eval.json")
      message(FATAL_ERROR "no eval.json for ${run} seed ${seed}")
    endif()
  endforeach()
endforeach()

# A bad spec fails before anything is printed, naming the line.
file(WRITE "${WORK}/bad.txt" "run x --stpes 10\n")
execute_process(COMMAND "${TINYLOOP}" sweep "${WORK}/bad.txt" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT out STREQUAL "" OR NOT err MATCHES "did you mean '--steps'")
  message(FATAL_ERROR "bad flag in a spec: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()
file(WRITE "${WORK}/bad.txt" "seeds 1\nrepeat x\n")
execute_process(COMMAND "${TINYLOOP}" sweep "${WORK}/bad.txt" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "bad.txt:2: unknown line 'repeat'")
  message(FATAL_ERROR "unknown spec line: exit ${rc}, stderr '${err}'")
endif()

# A study table in a spec: one command per search of the retrieval table, each into its own
# folder, and the searches' folders merge into the table.
file(WRITE "${WORK}/retrieval.txt" "reproduce retrieval --Ks 2 --seeds 1,2 --kinds stacked --max-layers 1 --width 16 "
     "--steps 20 --eval-every 10 --eval-instances 16 --quiet --out ${WORK}/rtable\n")
run_ok(count err sweep "${WORK}/retrieval.txt" --count)
expect_match("${count}" "^2\n$" "sweep --count of a retrieval table")
run_ok(cmds err sweep "${WORK}/retrieval.txt" --bin "${TINYLOOP}")
set(search1 "[^\n]* reproduce retrieval --table [^\n]*--Ks 2 --seeds 1 --kinds stacked --threads 1 --out ")
expect_match("${cmds}" "^${search1}[^\n]*/rtable/K2-stacked-seed1\n[^\n]* --seeds 2 [^\n]*/rtable/K2-stacked-seed2\n$"
             "retrieval searches")
run_printed("${cmds}")
run_ok(out err reproduce retrieval --merge "${WORK}/rtable")
expect_match("${out}" "retrieval table: K 2 stacked: [^\n]*\nwrote " "merged retrieval searches")
file(READ "${WORK}/rtable/table.csv" merged)
expect_match("${merged}" "\n2,stacked,1,1,[^\n]*\n2,stacked,1,2," "merged cells of both seeds")
file(WRITE "${WORK}/bad.txt" "reproduce retrieval --Ks 2,17\n")
execute_process(COMMAND "${TINYLOOP}" sweep "${WORK}/bad.txt" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT out STREQUAL "" OR NOT err MATCHES "bad.txt:1: reproduce retrieval: --Ks 17: ")
  message(FATAL_ERROR "bad retrieval table in a spec: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()

# ---- merge ----
run_ok(table err merge "${WORK}/sweep" --target 0 --target-len 20 --csv "${WORK}/runs.csv"
       --summary-csv "${WORK}/summary.csv")
expect_match("${table}" "\\| recipe \\| flags \\(vs lam2026\\) \\| seeds \\| steps \\| n=12 \\| n=20 \\|" "merge header")
expect_match("${table}" "\\| base \\| `--loops 2 --min-len 6 --max-len 12 --steps 12` \\| 1,2 \\| 12 \\| [0-9.]+ \\([0-9.]+-[0-9.]+\\) \\|" "merge base row")
expect_match("${table}" "\\| best \\| `[^`]*--lr 0.003 --warmup 100 --schedule cosine [^`]*--steps 12[^`]*` \\|" "merge preset row")
expect_match("${table}" "\\| g_lambda-p0.5_loops3 \\| `[^`]*--loops 3 --lambda-p 0.5[^`]*` \\| 1,2 \\| 12 \\|[^\n]*\\| 2/2 \\|" "merge grid row")
expect_match("${table}" "\\| n=20 \\| all right at n=20 \\| >= 0.0% at n=20 \\|" "merge sequence column")
expect_lines("${WORK}/runs.csv" 25)     # header + 12 runs x 2 lengths
expect_lines("${WORK}/summary.csv" 13)  # header + 6 recipes x 2 lengths
# The CSV holds the run's own number, digit for digit.
file(READ "${WORK}/sweep/base/seed2/eval.json" ej)
string(REGEX MATCH "\"len\": 20,[ \n]*\"token_accuracy\": ([0-9.e-]+)" m "${ej}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "cannot read token_accuracy at 20 from eval.json:\n${ej}")
endif()
file(READ "${WORK}/runs.csv" rc_text)
expect_match("${rc_text}" "\nbase,2,12,20,${CMAKE_MATCH_1}," "runs.csv")
execute_process(COMMAND "${TINYLOOP}" merge "${WORK}/spec.txt" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "is not a directory")
  message(FATAL_ERROR "merge of a file: exit ${rc}, stderr '${err}'")
endif()

# ---- reproduce ----
set(rep "${WORK}/rep")
set(rargs reproduce induction --recipe lam2026 --seeds 2 --steps 12 --threads 1 --out "${rep}" --eval-samples 2
    --curve-points 2 --curve-samples 2 --mechanism-samples 1 --attention-len 10 -- --loops 3 --min-len 6 --max-len 12)
# stdout and stderr into one file, as `> log 2>&1` does: each run's "wrote" line (stdout) comes
# before the next run's announcement (stderr).
execute_process(COMMAND "${TINYLOOP}" ${rargs} RESULT_VARIABLE rc OUTPUT_FILE "${WORK}/rep.log" ERROR_FILE "${WORK}/rep.log")
file(READ "${WORK}/rep.log" out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "reproduce: exit ${rc}\n${out}")
endif()
expect_match("${out}" "reproduce: run 1/4: lam2026 seed 1 [^\n]*\n.*\nwrote [^\n]*/lam2026/seed1/model.tlc [^\n]*\nreproduce: run 2/4 \\(the runs left: about [0-9ms]+\\): lam2026 seed 2 " "reproduce output order")
expect_match("${out}" "\\| lam2026 \\| `--loops 3 --min-len 6 --max-len 12 --steps 12` \\| 1,2 \\| 12 \\|" "reproduce table")
file(READ "${rep}/report.md" md)
expect_match("${md}" "\\| lam2026-ce \\| `[^`]*--lambda-p 0 --lambda-k 0 --lambda-s 0[^`]*` \\| 1,2 \\| 12 \\|( [0-9.]+ \\([0-9.]+-[0-9.]+\\) \\|)+ 0/2 \\|" "report CE row")
expect_match("${md}" "n=64 \\| n=100 \\| n=200 \\| n=500 \\| n=1000 \\|" "report lengths")
expect_match("${md}" "## Exact commands" "report commands")
expect_match("${md}" "train --preset lam2026 --lambda-p 0 --lambda-k 0 --lambda-s 0 --loops 3 --min-len 6 --max-len 12 --steps 12 --seed 2 " "report command line")
expect_match("${md}" "\\| 3 \\| [01]\\.[0-9]+ \\| [01]\\.[0-9]+ \\|" "report mechanism table")
expect_lines("${rep}/results.csv" 21)      # header + 4 runs x 5 lengths
expect_lines("${rep}/summary.csv" 11)      # header + 2 recipes x 5 lengths
expect_lines("${rep}/per_loop.csv" 61)     # header + 4 runs x 5 lengths x 3 loops
expect_lines("${rep}/mechanism.csv" 13)    # header + 2 recipes x (n=64, n=1000) x 3 loops
expect_lines("${rep}/accuracy_curve.csv" 9)  # header + 2 recipes x 2 checkpoints x 2 lengths
foreach(svg curves.svg per_loop.svg attention-lam2026.svg attention-lam2026-ce.svg)
  file(READ "${rep}/${svg}" s)
  expect_match("${s}" "^<\\?xml[^\n]*\n<svg [^>]*xmlns=\"http://www.w3.org/2000/svg\"" "${svg} header")
  expect_match("${s}" "</svg>\n$" "${svg} end")
endforeach()
file(READ "${rep}/curves.svg" s)
expect_match("${s}" ">cross-entropy</text>.*>kinetic K</text>.*>potential U</text>.*>Tsallis entropy S_q</text>" "curves panels")
expect_match("${s}" "<path d=\" M[0-9.]+ [0-9.]+ L" "curves lines")
# The accuracy panel's four series (each recipe at n = 64 and 1000) have four colours.
string(REGEX MATCHALL "stroke=\"#[0-9a-f]+\"[^>]*/><text[^>]*>[^<]* n=[0-9]+</text>" legend "${s}")
string(REGEX MATCHALL "#[0-9a-f]+" colours "${legend}")
list(REMOVE_DUPLICATES colours)
list(LENGTH colours distinct)
if(NOT distinct EQUAL 4)
  message(FATAL_ERROR "curves.svg: the accuracy panel's 4 series use ${distinct} colours: ${legend}")
endif()
file(READ "${rep}/attention-lam2026.svg" s)
expect_match("${s}" ">loop 1 [^<]*</text>.*>loop 2 [^<]*</text>.*>loop 3 [^<]*</text>" "attention panels")
expect_match("${s}" "<rect x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"[0-9.]+\" height=\"[0-9.]+\" fill=\"#[0-9a-f]+\"/>" "attention cells")
# The attention CSV keeps the causal rows: query 4 of loop 1 has keys 0..4.
file(STRINGS "${rep}/attention.csv" rows REGEX "^lam2026,1,4,")
list(LENGTH rows keys)
if(NOT keys EQUAL 5)
  message(FATAL_ERROR "attention.csv: row 4 of loop 1 has ${keys} keys, expected 5 (causal)")
endif()
# A second call keeps the finished runs.
run_ok(out err ${rargs})
expect_match("${err}" "kept [^\n]*runs/lam2026/seed1 .*kept [^\n]*runs/lam2026-ce/seed2 " "reproduce resume")
message(STATUS "sweep, merge and reproduce: ok")
