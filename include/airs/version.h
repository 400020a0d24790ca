/*
 * version.h - the version of the headers. The same major version means the
 * same ABI; the shared library's soname follows the major version.
 */
#ifndef AIRS_VERSION_H
#define AIRS_VERSION_H

#define AIRS_VERSION_MAJOR 0
#define AIRS_VERSION_MINOR 1
#define AIRS_VERSION_PATCH 0

/* MAJOR * 10000 + MINOR * 100 + PATCH */
#define AIRS_VERSION_NUMBER \
  (AIRS_VERSION_MAJOR * 10000 + AIRS_VERSION_MINOR * 100 + AIRS_VERSION_PATCH)

#define AIRS_VERSION_STRING "0.1.0"

#endif /* AIRS_VERSION_H */
