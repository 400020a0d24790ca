/*
 * export.h - AIRS_API marks the functions libairs exports. The library is
 * built with hidden default visibility, so only airs_* symbols leave it.
 */
#ifndef AIRS_EXPORT_H
#define AIRS_EXPORT_H

#if defined(AIRS_STATIC)
#define AIRS_API
#elif defined(_WIN32)
#ifdef AIRS_BUILDING
#define AIRS_API __declspec(dllexport)
#else
#define AIRS_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define AIRS_API __attribute__((visibility("default")))
#else
#define AIRS_API
#endif

#endif /* AIRS_EXPORT_H */
