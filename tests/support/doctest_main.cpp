// What the suites share: doctest's main (this file), fixtures and batches (harness.hpp), the golden
// file reader and comparisons (golden_file.hpp, golden_case.hpp), the model family's cases.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
