/*
 * check.h - the checks of the plain C tests of <airs/airs.h>. Every macro
 * counts one check (CHECK_ST on an expected failure counts two: the status
 * and the last error message); CHECK_DONE() prints the closing line
 * "N passed, M failed" and gives the exit status of the program.
 *
 * An expected failure must leave a fresh last error message: CHECK_ST
 * first sets the message to a marker (by a failing call that nothing else
 * makes) and then checks that the call under test replaced it with a
 * non-empty one.
 */
#ifndef AIRS_TESTS_CHECK_H
#define AIRS_TESTS_CHECK_H

#include <airs/airs.h>
#include <stdio.h>
#include <string.h>

static int check_passed_;
static int check_failed_;
static char check_marker_[512];

static inline int check_report_(int ok, const char* file, int line,
                                const char* what) {
  if (ok) {
    check_passed_++;
  } else {
    check_failed_++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
  }
  return ok;
}

/* Sets this thread's last error message to a marker nothing else sets. */
static inline void check_mark_(void) {
  (void)airs_check_abi(0xFFFFFFFEu);
  snprintf(check_marker_, sizeof check_marker_, "%s",
           airs_last_error_message());
}

/* True if the last error message is non-empty and not the marker. */
static inline int check_message_set_(void) {
  const char* m = airs_last_error_message();
  return m != NULL && m[0] != '\0' && strcmp(m, check_marker_) != 0;
}

static inline void check_status_(airs_status got, airs_status want,
                                 const char* file, int line, const char* what) {
  if (!check_report_(got == want, file, line, what))
    fprintf(stderr, "    got %s, want %s (last error: \"%s\")\n",
            airs_strerror(got), airs_strerror(want), airs_last_error_message());
  if (want != AIRS_OK &&
      !check_report_(check_message_set_(), file, line,
                     "the failure set airs_last_error_message()"))
    fprintf(stderr, "    after: %s\n    message: \"%s\"\n", what,
            airs_last_error_message());
}

/* A condition. */
#define CHECK(cond) ((void)check_report_(!!(cond), __FILE__, __LINE__, #cond))

/* Two integers (printed on failure). */
#define CHECK_EQ(a, b)                                              \
  do {                                                              \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
    if (!check_report_(check_a_ == check_b_, __FILE__, __LINE__,    \
                       #a " == " #b))                               \
      fprintf(stderr, "    %lld != %lld\n", check_a_, check_b_);    \
  } while (0)

/* Two strings (printed on failure). */
#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *check_a_ = (a), *check_b_ = (b);                               \
    if (!check_report_(check_a_ && check_b_ && !strcmp(check_a_, check_b_),    \
                       __FILE__, __LINE__, #a " equals " #b))                  \
      fprintf(stderr, "    \"%s\" != \"%s\"\n",                                \
              check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
  } while (0)

/* A call returns `want`; a failure must also set the last error message. */
#define CHECK_ST(call, want)                                       \
  do {                                                             \
    airs_status check_want_ = (want);                              \
    if (check_want_ != AIRS_OK) check_mark_();                     \
    check_status_((call), check_want_, __FILE__, __LINE__, #call); \
  } while (0)

/* For void calls that fail silently (airs_runtime_free misuse): mark the
 * message, then CHECK_MESSAGE_SET() after the call. */
#define CHECK_MARK() check_mark_()
#define CHECK_MESSAGE_SET()                                      \
  ((void)check_report_(check_message_set_(), __FILE__, __LINE__, \
                       "the call set airs_last_error_message()"))

/* Prints the closing line; use as `return CHECK_DONE();` in main. */
#define CHECK_DONE()                                               \
  (printf("%d passed, %d failed\n", check_passed_, check_failed_), \
   fflush(stdout), check_failed_ ? 1 : 0)

#endif /* AIRS_TESTS_CHECK_H */
