// otp_main.cpp - the doctest main of every OTP suite port in this folder.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
