// supervisor_SUITE_misc.cpp - being ported (issue 12).
#include "../runtime/sup_helpers.hpp"
