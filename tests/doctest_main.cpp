// doctest_main.cpp - the one doctest implementation and main() of every
// doctest program in tests/.
//
// Compiled once, into a static library that doctest_dep links: doctest's
// implementation is the most expensive translation unit of the suite
// (about 6 s at -O2 -g, 30 s with ASan + UBSan), and each test program
// compiling its own copy made most of the sanitizer builds' time in CI.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
