# cmake -DIN=<file> -DOUT=<header> -P embed_file.cmake
# Writes the bytes of IN as a C++ array: kModel[] and kModelSize (examples/embed).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
if(size EQUAL 0)
  message(FATAL_ERROR "${IN} is empty")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes a line
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n  " bytes "${bytes}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}.tmp"
"// Generated from ${name} by examples/embed/embed_file.cmake; do not edit.
#pragma once
#include <cstddef>
#include <cstdint>

alignas(8) static const std::uint8_t kModel[] = {
  ${bytes}
};
static constexpr std::size_t kModelSize = ${size};
")
file(RENAME "${OUT}.tmp" "${OUT}")
