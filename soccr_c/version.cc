// soccr_version() of <soccr/move.h>: the version in the top-level VERSION
// file, compiled in.

#include <soccr/move.h>

#include "soccr_version.h"

extern "C" const char* soccr_version(void) { return SOCCR_VERSION; }
