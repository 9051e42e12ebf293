# The README's 5-minute tour, run as written: the commands are read from README.md (the ```sh
# block under "## A 5-minute tour"), so the README and this test cannot drift apart. Each one
# must succeed. Three substitutions, each checked to apply:
#  - `tools/dev.sh train ARGS` becomes `<tinyloop> train ARGS`. With --out among ARGS that is
#    exactly the command dev.sh runs once it has built build/native (tools/dev.sh, cmd_train);
#    here the build under test is already built, and a fresh clone has no build/native.
#  - `build/native/tools/tinyloop` becomes the tinyloop of the build under test.
#  - `--steps N` becomes `--steps ${STEPS}`: the tour's length is what a test cannot afford, its
#    commands are what it checks. Every other flag (preset, evaluation lengths, samples) stays.
# The commands run under bash in WORK/root, where `tools` links to the source tree's tools/ (the
# tour calls tools/reference/torch_reference.py). Before them, two runs/default-* folders stand
# in for what the README's main command leaves; the tour then runs twice, so the second run meets
# everything the first left. Afterwards nothing may have been written outside runs/.
# Without python3-torch the check-export step is left out and, once every other step has
# passed, the test reports SKIPPED (ctest's SKIP_REGULAR_EXPRESSION).
#   cmake -DTINYLOOP=<exe> -DREADME=<README.md> -DTOOLS=<source tools/> -DWORK=<dir> [-DSTEPS=200]
#         -P readme_tour.cmake
foreach(var TINYLOOP README TOOLS WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "readme_tour.cmake needs -D${var}")
  endif()
endforeach()
if(NOT DEFINED STEPS)
  set(STEPS 200)
endif()

# ---- the tour's commands, from the README ----
file(READ "${README}" text)
string(FIND "${text}" "\n## A 5-minute tour\n" at)
if(at LESS 0)
  message(FATAL_ERROR "README.md has no '## A 5-minute tour' section")
endif()
math(EXPR at "${at} + 1")
string(SUBSTRING "${text}" ${at} -1 text)
string(FIND "${text}" "\n## " section_end)  # the next section
if(section_end GREATER_EQUAL 0)
  string(SUBSTRING "${text}" 0 ${section_end} text)
endif()
string(FIND "${text}" "\n```sh\n" open)
if(open LESS 0)
  message(FATAL_ERROR "the tour section of README.md has no ```sh block")
endif()
math(EXPR open "${open} + 7")
string(SUBSTRING "${text}" ${open} -1 text)
string(FIND "${text}" "\n```" close)
string(SUBSTRING "${text}" 0 ${close} tour)
string(REPLACE "\\\n" " " tour "${tour}")  # one line per command

# ---- the substitutions ----
function(substitute from to)
  string(FIND "${tour}" "${from}" found)
  if(found LESS 0)
    message(FATAL_ERROR "the tour no longer contains '${from}'; update tests/cli/readme_tour.cmake:\n${tour}")
  endif()
  string(REPLACE "${from}" "${to}" tour "${tour}")
  set(tour "${tour}" PARENT_SCOPE)
endfunction()
if(NOT tour MATCHES "(^|\n)tools/dev.sh train [^\n]*--out[ =]")
  message(FATAL_ERROR "the tour's 'tools/dev.sh train' has no --out: dev.sh would add its own "
                      "runs/default-<timestamp>, and the later steps could not name the run")
endif()
# The README's own path first: the executable's path may itself end in build/native/tools/tinyloop.
substitute("build/native/tools/tinyloop" "'${TINYLOOP}'")
substitute("tools/dev.sh train" "'${TINYLOOP}' train")
string(REGEX REPLACE "--steps [0-9]+" "--steps ${STEPS}" tour "${tour}")

set(skipped "")
if(tour MATCHES "(^|\n)([^ \n]*python[0-9.]*) tools/reference/torch_reference.py")
  set(python "${CMAKE_MATCH_2}")
  execute_process(COMMAND "${python}" -c "import torch" RESULT_VARIABLE no_torch OUTPUT_QUIET ERROR_QUIET)
  if(NOT no_torch EQUAL 0)
    string(REGEX REPLACE "(^|\n)[^ \n]*python[0-9.]* tools/reference/torch_reference.py[^\n]*" "\\1" tour "${tour}")
    set(skipped "${python} has no torch, so the tour's check-export step did not run")
  endif()
endif()

# ---- run it twice, after what the main command leaves ----
set(root "${WORK}/root")
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${root}/runs/default-20250101-000000" "${root}/runs/default-20250101-000100")
file(TOUCH "${root}/runs/default-20250101-000000/model.tlc" "${root}/runs/default-20250101-000100/model.tlc")
file(CREATE_LINK "${TOOLS}" "${root}/tools" SYMBOLIC)
file(WRITE "${WORK}/tour.sh" "set -euo pipefail\nset -x\n${tour}\n")
foreach(round 1 2)
  execute_process(COMMAND bash "${WORK}/tour.sh" WORKING_DIRECTORY "${root}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tour run ${round}: a command failed (exit ${rc}); the trace ends with it\n"
                        "stdout:\n${out}\nstderr:\n${err}")
  endif()
endforeach()
message("the second run's stdout:\n${out}\nand stderr (the trace):\n${err}")
file(GLOB left RELATIVE "${root}" "${root}/*")
list(REMOVE_ITEM left runs tools)
if(left)
  message(FATAL_ERROR "the tour wrote outside runs/: ${left}")
endif()
if(skipped)
  message("SKIPPED: ${skipped}; every other step passed")
else()
  message(STATUS "the README's tour ran twice as written (steps scaled to ${STEPS})")
endif()
