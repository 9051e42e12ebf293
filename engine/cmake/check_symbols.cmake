# cmake -DNM=<nm> -DLIBRARIES=<lib.a|lib.a...> -P check_symbols.cmake
#
# The engine core calls no OS: every symbol its static libraries need from outside themselves
# must match the allowlist below. That covers the math library, memory and string primitives,
# vsnprintf (Status messages), and the C++ ABI and compiler runtime. A system call, a thread, a
# file, a clock, a stream or a heap allocation shows up here as an undefined symbol such as
# pthread_create, fopen, clock_gettime, std::ios_base::Init or operator new, and fails the test.
set(allowed
  # libm (with its _finite / __*_finite aliases)
  "^(sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|asinh|acosh|atanh|exp|exp2|expm1|log|log2|log10|log1p|pow|sqrt|cbrt|hypot|erf|erfc|tgamma|lgamma|fabs|floor|ceil|round|lround|llround|rint|lrint|nearbyint|trunc|fmod|remainder|fmin|fmax|fma|fdim|ldexp|frexp|modf|scalbn|nextafter|copysign|nan|sincos)[fl]?$"
  "^__[a-z0-9]+_finite$"
  # memory and string primitives, and the formatter behind Status messages
  "^(memcpy|memmove|memset|memcmp|memchr|strlen|strnlen|strcmp|strncmp|strchr|strrchr|strstr|strcpy|strncpy)$"
  "^(vsnprintf|snprintf)$"
  "^__(memcpy|memmove|memset|strcpy|strncpy|vsnprintf|snprintf)_chk$"  # _FORTIFY_SOURCE
  # the C++ ABI: exception tables, pure virtuals, guarded statics, operator delete (virtual
  # destructors reference it even where nothing is ever deleted)
  "^__gxx_personality_v0$"
  "^__cxa_(pure_virtual|deleted_virtual|guard_acquire|guard_release|guard_abort|atexit|begin_catch|end_catch|call_unexpected|end_cleanup)$"  # end_cleanup: ARM EHABI's _Unwind_Resume
  "^_ZSt9terminatev$"
  "^_ZdlPv(m|j)?$"
  "^__dso_handle$"
  "^_GLOBAL_OFFSET_TABLE_$"
  "^__stack_chk_(fail|guard)$"
  # compiler runtime: unwinder, ARM EABI helpers, AArch64 outline atomics, soft-float/int helpers
  "^_Unwind_"
  "^__aeabi_"
  "^__gnu_(unwind|Unwind|h2f|f2h)"
  "^__aarch64_(cas|swp|ldadd|ldclr|ldeor|ldset|have_lse_atomics)"
  "^__(u?div|u?mod|mul|neg|ashl|ashr|lshr|popcount|clz|ctz|ffs|bswap|parity)[a-z]*[0-9]$"
  "^__(float|fix|fixuns|extend|trunc|add|sub|mul|div|cmp|eq|ne|gt|ge|lt|le|unord)[a-z]*[0-9]$"
  # sanitizer and coverage runtimes of instrumented builds (tools/ci/sanitizers.sh, TINYLOOP_FUZZ)
  "^__(asan|ubsan|lsan|tsan|msan|sanitizer|sancov)_"
  "^_ZTVN10__cxxabiv1[0-9]+__[a-z_]*type_infoE$"  # type_info vtables, for UBSan's vptr checks
)

string(REPLACE "|" ";" libraries "${LIBRARIES}")
set(defined "")
set(undefined "")
foreach(lib IN LISTS libraries)
  if(NOT EXISTS "${lib}")
    message(FATAL_ERROR "no such library: ${lib}")
  endif()
  execute_process(COMMAND ${NM} -P -g "${lib}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${lib}: ${err}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line IN LISTS lines)
    # POSIX format: "name type [value size]"; member headers ("lib.a[x.o]:") have no type.
    if(line MATCHES "^([^ ]+) ([A-Za-z])( |$)")
      set(name "${CMAKE_MATCH_1}")
      set(type "${CMAKE_MATCH_2}")
      if(type MATCHES "^[Uwv]$")
        list(APPEND undefined "${name}")
      else()
        list(APPEND defined "${name}")
      endif()
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES undefined)
list(REMOVE_DUPLICATES defined)

set(external "")
set(bad "")
foreach(name IN LISTS undefined)
  list(FIND defined "${name}" at)
  if(NOT at EQUAL -1)
    continue()
  endif()
  list(APPEND external "${name}")
  set(ok FALSE)
  foreach(pattern IN LISTS allowed)
    if(name MATCHES "${pattern}")
      set(ok TRUE)
      break()
    endif()
  endforeach()
  if(NOT ok)
    list(APPEND bad "${name}")
  endif()
endforeach()

list(SORT external)
list(JOIN external " " external_text)
message(STATUS "external symbols: ${external_text}")
if(bad)
  list(JOIN bad "\n  " bad_text)
  message(FATAL_ERROR "the engine core needs symbols outside the OS-free allowlist "
                      "(engine/cmake/check_symbols.cmake):\n  ${bad_text}\n"
                      "OS facilities (threads, files, clocks, streams, heap) belong in platform/.")
endif()
message(STATUS "ok: no OS symbols in ${LIBRARIES}")
