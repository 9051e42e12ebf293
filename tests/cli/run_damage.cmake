# damage(ARGS...): runs the damage_checkpoint helper (${DAMAGE}) and stops the script on failure.
# Included by the fixture scripts that build damaged files.
function(damage)
  execute_process(COMMAND "${DAMAGE}" ${ARGN} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "damage_checkpoint ${ARGN}: ${err}")
  endif()
endfunction()
