# `tinyloop export` of a checkpoint reproduces the engine's
# logits in the independent PyTorch implementation (tools/reference/torch_reference.py).
# Prints 'SKIPPED: ...' (ctest's SKIP_REGULAR_EXPRESSION) when no python3 with torch is installed.
#   cmake -DTINYLOOP=<exe> -DCHECKPOINT=<file> -DWORK=<dir> -DREFERENCE=<script> -P export_matches_torch.cmake
if(NOT DEFINED PYTHON)
  set(PYTHON /usr/bin/python3)  # Debian's python3-torch lives there, not in a pyenv
endif()
set(python "${PYTHON}")
execute_process(COMMAND ${python} -c "import torch" RESULT_VARIABLE no_torch OUTPUT_QUIET ERROR_QUIET)
if(NOT no_torch EQUAL 0)
  message("SKIPPED: python3-torch is not installed, no PyTorch export check")
  return()
endif()
file(MAKE_DIRECTORY "${WORK}")
set(tokens "0 1 2 3 0 1 2 3 1 0 3 2 0 1 2 1 3 0 2 3 1 0 2 1 3 2 0 3 1 2 0 1")
execute_process(COMMAND "${TINYLOOP}" export --checkpoint "${CHECKPOINT}" --json "${WORK}/export.json" --overwrite
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "export failed: ${err}")
endif()
execute_process(COMMAND "${TINYLOOP}" infer --checkpoint "${CHECKPOINT}" --tokens "${tokens}" --logits --json
                RESULT_VARIABLE rc OUTPUT_FILE "${WORK}/logits.json" ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "infer failed: ${err}")
endif()
execute_process(COMMAND ${python} "${REFERENCE}" check-export --export "${WORK}/export.json" --tokens "${tokens}"
                        --logits "${WORK}/logits.json" --tol 1e-4
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the PyTorch forward of the export disagrees with tinyloop's logits")
endif()
