// Forced first include (-include) of the OS-header check (engine/cmake/TinyloopOsCheck.cmake).
//
// It pulls in, before the check is armed, everything the engine core may use: the C++ standard
// library's OS-free parts and xsimd. Standard headers include <pthread.h>, <time.h> and the like
// internally (libstdc++'s atomics, xsimd's <ostream>); including them here first means their
// include guards keep those inner includes from reaching the stubs later on. Then the check is
// armed: from here on, any #include of an OS header, from an engine file or through one, hits
// its #error stub.
//
// A standard header missing from this list that the engine needs and that is OS-free can be
// added here; an OS facility belongs in platform/ instead.
#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>  // vsnprintf for Status messages; the file functions are caught by the symbol check
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <tuple>
#include <type_traits>
#include <utility>
#if TINYLOOP_SIMD
#include <xsimd/xsimd.hpp>
#endif

#define TINYLOOP_OS_CHECK_ARMED 1
