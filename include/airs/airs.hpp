/*
 * airs.hpp - a header-only C++ layer over the C API of airssys-rt: typed
 * actors, RAII handles and std::chrono, with nothing but <airs/airs.h> (and
 * the headers it includes) and the standard library underneath. It compiles
 * with any C++17 or C++20 compiler against the installed headers and
 * library; nothing here reaches into the runtime's insides.
 *
 * What it gives, in the order of this file:
 *   - airs::error, and how failures are reported (below);
 *   - message tags: airs::message_type<T> or a static member T::airs_tag;
 *   - airs::typed_pid<Ms...>: a pid whose send accepts only Ms, checked at
 *     compile time;
 *   - airs::message<T> (an owned envelope: priority, send later) and
 *     airs::payload<T> (one T shared by reference count);
 *   - airs::config and airs::runtime (RAII), airs::runtime_ref (borrowed);
 *   - airs::actor<Self, Ms...>: an actor class with one handler `on(const
 *     M&)` per message type, and requests with a reply callback;
 *     from outside, call (blocking) and ask (a std::future);
 *   - airs::topic<T> (publish/subscribe), timers with std::chrono, the
 *     registry and pools;
 *   - airs::supervisor_spec (fluent), airs::supervisor_ref.
 *
 * Errors: exceptions. A failing call throws airs::error, which carries the
 * airs_status and the C library's detail text. Chosen over an
 * expected-style result because (1) C++17 has no std::expected and a home
 * made one would be one more type to learn; (2) inside an actor the right
 * answer to most failures is OTP's "let it crash": an exception that leaves
 * a handler ends the process with an error reason its supervisor sees, and
 * that is what happens here, with no error plumbing in user code; (3) the
 * success path costs nothing (zero-cost exceptions), which the benchmark
 * needs. Outcomes that are normal answers rather than failures are values,
 * not exceptions: whereis gives std::optional, wait gives bool, cancel_timer
 * gives bool, try_send gives the airs_status.
 *
 * Messages. Every message type T has a 64-bit tag, in 1 ..
 * AIRS_MSG_OSL_BASE - 1 (the ranges above belong to the system actors,
 * the bindings and the runtime). A trivially copyable T travels as a copy
 * of its bytes in the envelope (airs_msg_new, airs_ctx_send: the fast path,
 * the same cost as the C API). Any other T is moved into a heap box that
 * the message owns (airs_msg_new_owned, with a free function that deletes
 * it): zero copy, never serialised, so such messages only make sense inside
 * one process, which is all a runtime is. A box starts with a check word
 * made from the tag and the size, so that a C sender that puts arbitrary
 * bytes under a C++ type's tag gets a clear error exit rather than a wild
 * pointer; it is a guard against mistakes, not against a forger.
 *
 * Cost: a handled message costs one call into the library for its tag,
 * size and data together (airs_msg_read: the tag to dispatch, the size to
 * check it), where a C receive callback that trusts its input makes one
 * for the data, and a few compares; bench/compare_cpp measures pingpong
 * and ring both ways.
 *
 * Threads: the thread tags of airs.h hold for the C++ calls made on top of
 * them, and each method below names the C function it wraps. Handlers run
 * as the C receive callback does: one at a time per actor, on a worker (or
 * the polling host thread), and must not block.
 */
#ifndef AIRS_AIRS_HPP
#define AIRS_AIRS_HPP

#include <airs/airs.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

// Keeps rare paths out of the message loop's hot function.
#if defined(__GNUC__) || defined(__clang__)
#define AIRS_HPP_NOINLINE __attribute__((noinline))
#else
#define AIRS_HPP_NOINLINE
#endif

namespace airs {

/* ------------------------------------------------------------------------
 * Errors.
 * ---------------------------------------------------------------------- */

/* What every failing call throws: the airs_status of the C call and a text
 * "<C function>: <status name> (<detail>)". [any thread] */
class error : public std::runtime_error {
 public:
  error(airs_status status, const std::string& what)
      : std::runtime_error(what), status_(status) {}
  airs_status status() const noexcept { return status_; }

 private:
  airs_status status_;
};

/* The exit code of a process whose handler threw an exception that is not
 * an airs::error (an airs::error ends it with its own status as the code).
 */
constexpr std::int32_t exception_exit_code = -1;

namespace detail {

// The text an exception gave in an actor's constructor or on_start, kept on
// the spawning thread (init runs there) so that the spawn call can put it
// into the airs::error it throws: the C boundary only carries a status.
inline std::string& init_failure_text() {
  thread_local std::string text;
  return text;
}

[[noreturn]] inline void fail(airs_status status, const char* function) {
  std::string what = function;
  what += ": ";
  what += airs_strerror(status);
  const char* detail = airs_last_error_message();
  if (detail && *detail) {
    what += " (";
    what += detail;
    what += ")";
  }
  throw error(status, what);
}

inline void check(airs_status status, const char* function) {
  if (status != AIRS_OK) fail(status, function);
}

// fn()'s status, with the failures this layer throws turned back into
// statuses: the try_ calls, which never throw.
template <class Fn>
airs_status status_of(Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const error& e) {
    return e.status();
  } catch (const std::bad_alloc&) {
    return AIRS_ENOMEM;
  }
}

// A duration in whole milliseconds, rounded up so that a timeout never
// ends early. Negative durations are refused (EINVAL), not clamped: a
// negative timeout is a bug in the caller.
template <class Rep, class Period>
std::uint64_t to_ms(std::chrono::duration<Rep, Period> d, const char* what) {
  if (d < d.zero())
    throw error(AIRS_EINVAL, std::string(what) + ": negative duration");
  return static_cast<std::uint64_t>(
      std::chrono::ceil<std::chrono::milliseconds>(d).count());
}

template <class Rep, class Period>
std::uint32_t to_timeout_ms(std::chrono::duration<Rep, Period> d,
                            const char* what) {
  std::uint64_t ms = to_ms(d, what);
  if (ms > 0x7FFFFFFFu)
    throw error(AIRS_EINVAL, std::string(what) + ": timeout above 2^31-1 ms");
  return static_cast<std::uint32_t>(ms);
}

}  // namespace detail

/* ------------------------------------------------------------------------
 * Message tags.
 * ---------------------------------------------------------------------- */

/* The tag of message type T. Either give T a member
 *     static constexpr std::uint64_t airs_tag = 42;
 * or specialise this trait for a type you cannot change:
 *     template <> struct airs::message_type<point> {
 *       static constexpr std::uint64_t tag = 43;
 *     };
 * Tags must be unique among the types an actor takes, and in
 * 1..AIRS_MSG_OSL_BASE-1 (checked at compile time). */
template <class T, class = void>
struct message_type {};

template <class T>
struct message_type<T, std::void_t<decltype(T::airs_tag)>> {
  static constexpr std::uint64_t tag = T::airs_tag;
};

template <class T>
class message;
template <class T>
class payload;

/* A request type names the type of its reply:
 *     struct get_total { static constexpr std::uint64_t airs_tag = 7;
 *                        using reply_type = total; };
 * The handler of a request returns a reply_type; the reply goes to the
 * requester (airs_reply) when the message came as a request. */

namespace detail {

template <class T, class = void>
struct has_tag : std::false_type {};
template <class T>
struct has_tag<T, std::void_t<decltype(message_type<T>::tag)>>
    : std::true_type {};

template <class T>
constexpr std::uint64_t tag_of() {
  static_assert(has_tag<T>::value,
                "airs: this type has no message tag: give it `static "
                "constexpr std::uint64_t airs_tag = N;` or specialise "
                "airs::message_type<T>");
  if constexpr (has_tag<T>::value) {
    constexpr std::uint64_t tag = message_type<T>::tag;
    static_assert(tag != 0 && tag < AIRS_MSG_OSL_BASE,
                  "airs: a message tag must be in 1..AIRS_MSG_OSL_BASE-1");
    return tag;
  } else {
    return 0;
  }
}

template <class T, class = void>
struct reply_of {
  using type = void;
};
template <class T>
struct reply_of<T, std::void_t<typename T::reply_type>> {
  using type = typename T::reply_type;
};

// What a send carries: T itself, or the T inside a message<T> or a
// payload<T> (typed pids check that type).
template <class T>
struct unwrap {
  using type = T;
};
template <class T>
struct unwrap<message<T>> {
  using type = T;
};
template <class T>
struct unwrap<payload<T>> {
  using type = T;
};
template <class T>
using unwrap_t = typename unwrap<std::decay_t<T>>::type;

template <class T>
constexpr bool is_message_v = false;
template <class T>
constexpr bool is_message_v<message<T>> = true;
template <class T>
constexpr bool is_payload_v = false;
template <class T>
constexpr bool is_payload_v<payload<T>> = true;
template <class T>
constexpr bool is_wrapper_v =
    is_message_v<std::decay_t<T>> || is_payload_v<std::decay_t<T>>;

#define AIRS_HPP_VALUE_ONLY                                           \
  "airs: requests and replies take the value itself; message<T> and " \
  "payload<T> go through send, try_send, send_after and publish"

// Copied into the envelope, or moved into an owned box.
template <class T>
constexpr bool copied_v = std::is_trivially_copyable_v<T>;

// Bytes a copied T takes on the wire: none for an empty struct.
template <class T>
constexpr std::size_t wire_size_v = std::is_empty_v<T> ? 0 : sizeof(T);

template <class T>
struct box {
  std::uint64_t check;
  T value;
};

template <class T>
constexpr std::uint64_t box_check_v = 0xA1C5B0C5ull * 0x100000001ull ^
                                      tag_of<T>() ^
                                      (static_cast<std::uint64_t>(sizeof(T))
                                       << 40);

template <class T>
void delete_box(void* ptr) {
  delete static_cast<box<T>*>(ptr);
}

template <class T>
constexpr bool unique_tags() {
  return true;
}
template <class T, class U, class... Rest>
constexpr bool unique_tags() {
  return tag_of<T>() != tag_of<U>() && unique_tags<T, Rest...>() &&
         unique_tags<U, Rest...>();
}
template <class... Ts>
constexpr bool all_tags_unique() {
  if constexpr (sizeof...(Ts) == 0)
    return true;
  else
    return unique_tags<Ts...>();
}

// A message in a fresh envelope (the caller owns it until a send takes it).
// A payload<U> gives a message that shares it (a new reference).
template <class T>
airs_msg* make_msg(T&& value) {
  using V = std::decay_t<T>;
  static_assert(!is_message_v<V>, "airs: internal: a message<T> is lent");
  airs_msg* msg = nullptr;
  if constexpr (is_payload_v<V>) {
    check(airs_msg_new_shared(tag_of<unwrap_t<V>>(), value.c_payload(), &msg),
          "airs_msg_new_shared");
  } else if constexpr (copied_v<V>) {
    check(airs_msg_new(tag_of<V>(), wire_size_v<V> ? &value : nullptr,
                       wire_size_v<V>, &msg),
          "airs_msg_new");
  } else {
    auto* b = new box<V>{box_check_v<V>, V(std::forward<T>(value))};
    airs_status st =
        airs_msg_new_owned(tag_of<V>(), b, sizeof *b, &delete_box<V>, &msg);
    if (st != AIRS_OK) {
      delete b;
      fail(st, "airs_msg_new_owned");
    }
  }
  return msg;
}

// A shared payload for publish (the caller owns one reference).
template <class T>
airs_payload* make_payload(T&& value) {
  using V = std::decay_t<T>;
  airs_payload* payload = nullptr;
  if constexpr (copied_v<V>) {
    check(airs_payload_new(wire_size_v<V> ? &value : nullptr, wire_size_v<V>,
                           &payload),
          "airs_payload_new");
  } else {
    auto* b = new box<V>{box_check_v<V>, V(std::forward<T>(value))};
    airs_status st = airs_payload_wrap(b, sizeof *b, &delete_box<V>, &payload);
    if (st != AIRS_OK) {
      delete b;
      fail(st, "airs_payload_wrap");
    }
  }
  return payload;
}

// Reads a T back out of a message: calls fn(T&) (a copy on the stack for
// copied types, the box's object for owned ones, const T& for a shared
// payload) and returns true, or returns false if the message is not a
// well-formed T (wrong size or check word).
template <class T, class Fn>
bool read_msg(const airs_msg* msg, const void* data, std::size_t size,
              Fn&& fn) {
  if constexpr (copied_v<T>) {
    if (size != wire_size_v<T>) return false;
    static const unsigned char zeros[sizeof(T)] = {};
    alignas(T) unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, wire_size_v<T> ? data : zeros, sizeof(T));
    fn(*std::launder(reinterpret_cast<T*>(bytes)));
    return true;
  } else {
    if (size != sizeof(box<T>) || !data) return false;
    std::uint64_t word;
    std::memcpy(&word, data, sizeof word);
    if (word != box_check_v<T>) return false;
    auto* b = static_cast<box<T>*>(const_cast<void*>(data));
    if (airs_msg_payload(msg))
      fn(static_cast<const T&>(b->value));  // shared by many receivers
    else
      fn(b->value);  // owned by this message alone: may be moved from
    return true;
  }
}

// The same, reading data and size from the message itself.
template <class T, class Fn>
bool read_msg(const airs_msg* msg, Fn&& fn) {
  std::size_t size = 0;
  const void* data = airs_msg_read(msg, nullptr, &size);
  return read_msg<T>(msg, data, size, std::forward<Fn>(fn));
}

// Runs send(airs_msg*) on the envelope of `value`, with C's rule that a
// send consumes its message only on AIRS_OK: a message<T> lends its own and
// gives it up only then (on failure the caller still has it, to send again);
// a value or a payload<T> gets a fresh envelope, freed on failure.
template <class T, class Send>
airs_status send_with(T&& value, Send&& send) {
  using V = std::decay_t<T>;
  if constexpr (is_message_v<V>) {
    static_assert(!std::is_lvalue_reference<T>::value,
                  "airs: a message<T> is sent with std::move(m): the send "
                  "takes it");
    airs_status st = send(value.c_msg());
    if (st == AIRS_OK) value.release();
    return st;
  } else {
    airs_msg* msg = make_msg(std::forward<T>(value));
    airs_status st = send(msg);
    if (st != AIRS_OK) airs_msg_free(msg);
    return st;
  }
}

// Sends from any thread (airs_send / airs_send_msg).
template <class T>
airs_status send_rt(airs_runtime* rt, airs_pid to, T&& value) {
  using V = std::decay_t<T>;
  if constexpr (copied_v<V>) {
    return airs_send(rt, to, tag_of<V>(), wire_size_v<V> ? &value : nullptr,
                     wire_size_v<V>);
  } else {
    return send_with(std::forward<T>(value),
                     [&](airs_msg* m) { return airs_send_msg(rt, to, m); });
  }
}

// Sends from inside a callback (the fast path: airs_ctx_send).
template <class T>
airs_status send_ctx(airs_ctx* ctx, airs_pid to, T&& value) {
  using V = std::decay_t<T>;
  if constexpr (copied_v<V>) {
    return airs_ctx_send(ctx, to, tag_of<V>(),
                         wire_size_v<V> ? &value : nullptr, wire_size_v<V>);
  } else {
    return send_with(std::forward<T>(value), [&](airs_msg* m) {
      return airs_ctx_send_msg(ctx, to, m);
    });
  }
}

}  // namespace detail

/* ------------------------------------------------------------------------
 * Pids.
 * ---------------------------------------------------------------------- */

/* An untyped pid is the C airs_pid (0: no process). */
using pid = airs_pid;

/* A pid that accepts the message types Ms... and no other: sending any
 * other type is a compile error ("this typed_pid does not accept this
 * message type"). It is a plain 64-bit value, trivially copyable (it may
 * travel in messages), and says nothing about whether the process is
 * alive: a send to a process that has ended throws AIRS_ENOPROC.
 * A typed_pid<A, B> converts implicitly to typed_pid<A> (a process that
 * takes A and B takes A); the other way needs unchecked(). */
template <class... Ms>
class typed_pid {
 public:
  /* Does this pid take messages of type T (alone, or in an
   * airs::message<T> or airs::payload<T>)? */
  template <class T>
  static constexpr bool accepts =
      (std::is_same<detail::unwrap_t<T>, Ms>::value || ...);

  constexpr typed_pid() = default;

  /* Trusts that `id` (from the registry, a message's sender, a C caller)
   * names a process whose actor takes Ms...: the C ABI carries no types,
   * so this cannot be checked. A process that gets a type it has no
   * handler for hands it to on_unexpected (ignored by default). */
  static constexpr typed_pid unchecked(airs_pid id) {
    typed_pid p;
    p.id_ = id;
    return p;
  }

  template <class... Ns, class = std::enable_if_t<
                             (typed_pid<Ns...>::template accepts<Ms> && ...)>>
  constexpr typed_pid(typed_pid<Ns...> wider) : id_(wider.id()) {}

  constexpr airs_pid id() const { return id_; }
  constexpr explicit operator bool() const { return id_ != 0; }
  friend constexpr bool operator==(typed_pid a, typed_pid b) {
    return a.id_ == b.id_;
  }
  friend constexpr bool operator!=(typed_pid a, typed_pid b) {
    return a.id_ != b.id_;
  }

 private:
  static_assert(detail::unique_tags<Ms...>(),
                "airs: two message types of one typed_pid share a tag");
  airs_pid id_ = 0;
};

template <>
class typed_pid<> {
 public:
  template <class T>
  static constexpr bool accepts = false;
  constexpr typed_pid() = default;
  static constexpr typed_pid unchecked(airs_pid id) {
    typed_pid p;
    p.id_ = id;
    return p;
  }
  template <class... Ns>
  constexpr typed_pid(typed_pid<Ns...> any) : id_(any.id()) {}
  constexpr airs_pid id() const { return id_; }
  constexpr explicit operator bool() const { return id_ != 0; }

 private:
  airs_pid id_ = 0;
};

#define AIRS_HPP_NOT_ACCEPTED \
  "airs: this typed_pid does not accept this message type"

/* ------------------------------------------------------------------------
 * Exit reasons.
 * ---------------------------------------------------------------------- */

enum class exit_kind {
  normal = AIRS_EXIT_NORMAL,
  shutdown = AIRS_EXIT_SHUTDOWN,
  killed = AIRS_EXIT_KILLED,
  error = AIRS_EXIT_ERROR,
  noproc = AIRS_EXIT_NOPROC,
  noconnection = AIRS_EXIT_NOCONNECTION
};

/* Why a process ended: a copy of the borrowed airs_reason, kept as long
 * as you like. */
struct exit_reason {
  exit_kind kind = exit_kind::normal;
  std::int32_t code = 0;
  std::string text;

  static exit_reason normal() { return {}; }
  static exit_reason shutdown() { return {exit_kind::shutdown, 0, {}}; }
  static exit_reason failure(std::int32_t code, std::string text) {
    return {exit_kind::error, code, std::move(text)};
  }
  static exit_reason from(const airs_reason* r) {
    return {static_cast<exit_kind>(airs_reason_kind(r)), airs_reason_code(r),
            airs_reason_text(r)};
  }
  /* "normal", "shutdown", "killed", "noproc", "noconnection", or
   * "error <code>: <text>". */
  std::string describe() const {
    switch (kind) {
      case exit_kind::normal: return "normal";
      case exit_kind::shutdown: return "shutdown";
      case exit_kind::killed: return "killed";
      case exit_kind::noproc: return "noproc";
      case exit_kind::noconnection: return "noconnection";
      case exit_kind::error: break;
    }
    return "error " + std::to_string(code) + ": " + text;
  }
};

/* An exit signal turned into a message (the actor traps exits). `from`
 * is the process that ended or sent it, 0 for airs_runtime_free. */
struct exit_msg {
  airs_pid from;
  exit_reason reason;
};

/* A monitor fired: `who` ended, `ref` is what monitor() returned. */
struct down_msg {
  airs_pid who;
  std::uint64_t ref;
  exit_reason reason;
};

/* A message as it came, for on_unexpected: borrowed, valid during the
 * handler only. */
class envelope {
 public:
  explicit envelope(const airs_msg* msg) : msg_(msg) {}
  std::uint64_t tag() const { return airs_msg_type(msg_); }
  airs_pid sender() const { return airs_msg_sender(msg_); }
  std::uint64_t correlation() const { return airs_msg_correlation(msg_); }
  const void* data() const { return airs_msg_data(msg_); }
  std::size_t size() const { return airs_msg_size(msg_); }
  const airs_msg* c_msg() const { return msg_; }

 private:
  const airs_msg* msg_;
};

/* ------------------------------------------------------------------------
 * Messages and payloads as objects.
 * ---------------------------------------------------------------------- */

/* A T in an envelope of its own (an airs_msg* the caller owns), for what a
 * plain send of a value cannot say: a priority, or a message made in one
 * place and sent later or elsewhere. Move-only; the destructor frees an
 * unsent message (and the T in it, once). Send it with std::move(m)
 * through send, try_send or send_after (of runtime_ref or an actor) to a
 * typed pid that takes T; any other type does not compile.
 *
 * Ownership follows the C rule: the send takes the message only when it
 * succeeds (afterwards `m` is empty: bool(m) is false). When a send fails
 * (throws, or try_send returns a status), `m` still holds it, so a sender
 * that meets back-pressure (AIRS_EFULL) can send the same message again.
 * Sending an empty message throws EINVAL. Requests and replies (call, ask,
 * request, reply_to) take values, not messages.
 *
 * A message made from a payload<T> shares that payload (no copy of T).
 * Constructors throw airs::error (ENOMEM). Not shared between threads
 * while it is changed; once sent it is the runtime's. [any thread] */
template <class T>
class message {
 public:
  explicit message(const T& value) : msg_(detail::make_msg(value)) {}
  explicit message(T&& value) : msg_(detail::make_msg(std::move(value))) {}
  explicit message(const payload<T>& shared) : msg_(detail::make_msg(shared)) {}

  message(message&& other) noexcept
      : msg_(std::exchange(other.msg_, nullptr)) {}
  message& operator=(message&& other) noexcept {
    if (this != &other) {
      airs_msg_free(msg_);
      msg_ = std::exchange(other.msg_, nullptr);
    }
    return *this;
  }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message() { airs_msg_free(msg_); }

  /* AIRS_PRIORITY_HIGH: handled before every normal message waiting in the
   * receiver's mailbox (airs_msg_set_priority). Throws EINVAL for an empty
   * message or a bad priority. */
  message& set_priority(airs_priority priority) {
    detail::check(airs_msg_set_priority(msg_, priority),
                  "airs_msg_set_priority");
    return *this;
  }
  airs_priority priority() const { return airs_msg_priority(msg_); }
  /* T's tag; the bytes the envelope carries (0 for an empty message). */
  static constexpr std::uint64_t tag() { return detail::tag_of<T>(); }
  std::size_t size() const { return airs_msg_size(msg_); }
  /* false once sent (or moved from). */
  explicit operator bool() const { return msg_ != nullptr; }

  /* The C message, still owned by this object (for C calls that borrow
   * one); release() gives up ownership: the caller must send or free it. */
  airs_msg* c_msg() const { return msg_; }
  airs_msg* release() noexcept { return std::exchange(msg_, nullptr); }

 private:
  airs_msg* msg_;
};

/* One immutable T shared by reference count (an airs_payload): any number
 * of messages, processes and copies of this object read the same T, which
 * is destroyed with the last reference. Copying retains, destroying
 * releases ([any thread], atomic counts). Made here, the T lives in its
 * own heap object (aligned for T; non-trivially-copyable types move into
 * it); a payload read back from a received message (actor's
 * shared_payload) may be one a C sender made.
 *
 * Send one to many processes with no copy of T: topic<T>::publish(rt, p),
 * send(pid, p) or message<T>(p). Receivers get const T& (a shared T must
 * not be changed: handlers that take T& refuse it, see actor). An empty
 * payload (default-made or moved from) has no T: get() on it is undefined,
 * sending it throws EINVAL. */
template <class T>
class payload {
 public:
  payload() = default;
  explicit payload(const T& value) : payload_(make(value)) {}
  explicit payload(T&& value) : payload_(make(std::move(value))) {}

  payload(const payload& other) noexcept : payload_(other.payload_) {
    airs_payload_retain(payload_);
  }
  payload(payload&& other) noexcept
      : payload_(std::exchange(other.payload_, nullptr)) {}
  payload& operator=(payload other) noexcept {
    std::swap(payload_, other.payload_);
    return *this;
  }
  ~payload() { airs_payload_release(payload_); }

  const T& get() const { return *static_cast<const T*>(value_ptr()); }
  const T& operator*() const { return get(); }
  const T* operator->() const { return &get(); }
  explicit operator bool() const { return payload_ != nullptr; }

  /* The C payload, borrowed (retain it to keep it). */
  airs_payload* c_payload() const { return payload_; }

  /* A new reference to `shared` if it holds a T in this layer's format
   * (size, check word, and for a copied T an address aligned for T),
   * else an empty payload. For messages received as const T&. */
  static payload adopt_if_fits(airs_payload* shared) {
    payload p;
    if (!shared || !fits(airs_payload_data(shared), airs_payload_size(shared)))
      return p;
    airs_payload_retain(shared);
    p.payload_ = shared;
    return p;
  }

 private:
  // Copied types: the T's bytes (readers of the message copy them out).
  // Others: a box with its check word, as owned messages.
  template <class U>
  static airs_payload* make(U&& value) {
    airs_payload* out = nullptr;
    if constexpr (detail::copied_v<T>) {
      T* object = new T(std::forward<U>(value));
      airs_status st = airs_payload_wrap(object, detail::wire_size_v<T>,
                                         &delete_object, &out);
      if (st != AIRS_OK) {
        delete object;
        detail::fail(st, "airs_payload_wrap");
      }
    } else {
      out = detail::make_payload(T(std::forward<U>(value)));
    }
    return out;
  }
  static void delete_object(void* ptr) { delete static_cast<T*>(ptr); }

  static bool fits(const void* data, std::size_t size) {
    if constexpr (detail::copied_v<T>) {
      if (size != detail::wire_size_v<T>) return false;
      if (size == 0) return true;  // an empty T: no bytes to read
      return reinterpret_cast<std::uintptr_t>(data) % alignof(T) == 0;
    } else {
      if (size != sizeof(detail::box<T>) || !data) return false;
      std::uint64_t word;
      std::memcpy(&word, data, sizeof word);
      return word == detail::box_check_v<T>;
    }
  }

  const void* value_ptr() const {
    const void* data = airs_payload_data(payload_);
    if constexpr (detail::copied_v<T>) {
      if constexpr (detail::wire_size_v<T> == 0) {
        if (!data) return &empty_value;  // a C sender's empty payload
      }
      return data;
    } else {
      return &static_cast<const detail::box<T>*>(data)->value;
    }
  }
  // The object an empty T read from zero bytes stands for.
  static inline const T empty_value{};

  airs_payload* payload_ = nullptr;
};

/* ------------------------------------------------------------------------
 * Configuration.
 * ---------------------------------------------------------------------- */

/* An airs_config, freed with the object. Setters throw airs::error
 * (EINVAL: a value out of range, with the key in the text). Not shared
 * between threads while it is changed (as the C config). */
class config {
 public:
  config() { detail::check(airs_config_new(&cfg_), "airs_config_new"); }
  ~config() { airs_config_free(cfg_); }
  config(const config&) = delete;
  config& operator=(const config&) = delete;

  /* Any key of airs_config_key (airs_config_set). */
  config& set(airs_config_key key, std::int64_t value) {
    detail::check(airs_config_set(cfg_, key, value), "airs_config_set");
    return *this;
  }
  /* Worker threads; 0 = host-driven (the host calls runtime::poll). */
  config& workers(int n) { return set(AIRS_CFG_WORKERS, n); }
  /* Time moves only with runtime::advance_time (deterministic tests). */
  config& manual_clock(bool on) { return set(AIRS_CFG_MANUAL_CLOCK, on); }
  config& mailbox_capacity(std::uint32_t n) {
    return set(AIRS_CFG_MAILBOX_CAPACITY, n);
  }
  config& budget(std::uint32_t n) { return set(AIRS_CFG_BUDGET, n); }
  template <class Rep, class Period>
  config& shutdown_timeout(std::chrono::duration<Rep, Period> d) {
    return set(AIRS_CFG_SHUTDOWN_TIMEOUT_MS,
               static_cast<std::int64_t>(
                   detail::to_ms(d, "config::shutdown_timeout")));
  }
  std::int64_t get(airs_config_key key) const {
    std::int64_t value = 0;
    detail::check(airs_config_get(cfg_, key, &value), "airs_config_get");
    return value;
  }
  const airs_config* c_config() const { return cfg_; }

 private:
  airs_config* cfg_ = nullptr;
};

/* Options of one spawn (airs_spawn_opts); the runtime's defaults for what
 * is not set. */
struct spawn_options {
  bool trap_exit = false; /* start trapping exits (AIRS_SPAWN_TRAP_EXIT) */
  bool blocking = false;  /* run on the blocking pool (AIRS_SPAWN_BLOCKING) */
  std::uint32_t mailbox_capacity = 0; /* 0: the runtime's default */
  std::optional<airs_mailbox_policy> mailbox_policy;
};

class supervisor_spec;
class supervisor_ref;
class actor_base;

namespace detail {

// What a process is made from: the actor class and the arguments of its
// constructor, kept for every (re)start, so that a restart never reuses a
// crashed object (the C init's contract). user_data is a heap copy of a
// shared_ptr to one of these, freed by user_data_free.
struct factory_base {
  explicit factory_base(const void* key) : type_key(key) {}
  virtual ~factory_base() = default;
  virtual void* create() const = 0;
  const void* type_key;
};

template <class A>
inline constexpr char type_key_v = 0;

template <class A, class... Args>
struct factory final : factory_base {
  template <class... Fwd>
  explicit factory(Fwd&&... args)
      : factory_base(&type_key_v<A>), args_(std::forward<Fwd>(args)...) {}
  void* create() const override {
    return std::apply([](const Args&... a) { return new A(a...); }, args_);
  }
  std::tuple<Args...> args_;
};

using factory_ptr = std::shared_ptr<const factory_base>;

template <class A, class... Args>
factory_ptr make_factory(Args&&... args) {
  return std::make_shared<const factory<A, std::decay_t<Args>...>>(
      std::forward<Args>(args)...);
}

inline void free_factory(void* user_data) {
  delete static_cast<factory_ptr*>(user_data);
}

inline airs_spawn_opts c_spawn_opts(airs_runtime* rt, const spawn_options& o) {
  airs_spawn_opts opts;
  check(airs_spawn_opts_init(rt, &opts), "airs_spawn_opts_init");
  if (o.trap_exit) opts.flags |= AIRS_SPAWN_TRAP_EXIT;
  if (o.blocking) opts.flags |= AIRS_SPAWN_BLOCKING;
  if (o.mailbox_capacity) opts.mailbox_capacity = o.mailbox_capacity;
  if (o.mailbox_policy) opts.mailbox_policy = *o.mailbox_policy;
  return opts;
}

// Spawns A with user_data = a new reference to `f`; throws with the text
// of A's constructor or on_start if that is what failed.
template <class A, class SpawnFn>
typename A::handle spawn_with(SpawnFn&& spawn_fn, factory_ptr f,
                              const char* function) {
  init_failure_text().clear();
  auto* holder = new factory_ptr(std::move(f));
  airs_pid id = 0;
  // user_data_free runs in every case, even when the spawn fails.
  airs_status st = spawn_fn(&A::behaviour(), holder, &free_factory, &id);
  if (st != AIRS_OK) {
    std::string text = init_failure_text();
    if (!text.empty())
      throw error(st, std::string(function) + ": " + airs_strerror(st) + " (" +
                          text + ")");
    fail(st, function);
  }
  return A::handle::unchecked(id);
}

}  // namespace detail

namespace detail {
template <class V, class R, class... Ms>
class asker;
}  // namespace detail

/* ------------------------------------------------------------------------
 * Runtime.
 * ---------------------------------------------------------------------- */

/* A borrowed runtime: every operation, no ownership. What actors get from
 * runtime(); an airs::runtime is one too. Each method is the C call it
 * names, with the C call's thread tag, and throws airs::error where the C
 * call would return a failure. */
class runtime_ref {
 public:
  explicit runtime_ref(airs_runtime* rt) : rt_(rt) {}
  airs_runtime* c_runtime() const { return rt_; }

  /* Starts a process of actor class A, constructed from copies of args
   * (airs_spawn). A's constructor and on_start run here, on this thread;
   * if either throws, the spawn fails and this throws an airs::error with
   * the exception's text (status EINVAL, or the airs::error's own).
   * [any thread] */
  template <class A, class... Args>
  typename A::handle spawn(Args&&... args) const {
    return spawn_opts<A>(spawn_options{}, std::forward<Args>(args)...);
  }
  template <class A, class... Args>
  typename A::handle spawn_opts(const spawn_options& o, Args&&... args) const {
    airs_spawn_opts opts = detail::c_spawn_opts(rt_, o);
    airs_runtime* rt = rt_;
    return detail::spawn_with<A>(
        [&](const airs_behaviour* b, void* ud, void (*ud_free)(void*),
            airs_pid* out) {
          return airs_spawn(rt, b, ud, ud_free, &opts, out);
        },
        detail::make_factory<A>(std::forward<Args>(args)...), "airs_spawn");
  }

  /* Sends a copy (trivially copyable T) or the moved object (others) to
   * `to` (airs_send / airs_send_msg). Throws ENOPROC if `to` has ended,
   * EFULL/ETIMEDOUT for a full mailbox. On failure a moved object is
   * destroyed. [any thread] */
  template <class... Ms, class T>
  void send(typed_pid<Ms...> to, T&& msg) const {
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    detail::check(detail::send_rt(rt_, to.id(), std::forward<T>(msg)),
                  "airs_send");
  }
  /* As send, but returns the status instead of throwing (for senders that
   * expect back-pressure: AIRS_EFULL). */
  template <class... Ms, class T>
  airs_status try_send(typed_pid<Ms...> to, T&& msg) const noexcept {
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    return detail::status_of(
        [&] { return detail::send_rt(rt_, to.id(), std::forward<T>(msg)); });
  }

  /* Sends `msg` to `to` after `delay` (airs_send_after); returns the timer
   * id for cancel_timer. A negative delay throws EINVAL. If `to` has
   * ended when the timer fires, the message goes to the dead-letter hook.
   * [any thread] */
  template <class... Ms, class T, class Rep, class Period>
  std::uint64_t send_after(typed_pid<Ms...> to, T&& msg,
                           std::chrono::duration<Rep, Period> delay) const {
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    std::uint64_t ms = detail::to_ms(delay, "airs_send_after");
    std::uint64_t id = 0;
    detail::check(detail::send_with(std::forward<T>(msg),
                                    [&](airs_msg* m) {
                                      return airs_send_after(rt_, to.id(), ms,
                                                             m, &id);
                                    }),
                  "airs_send_after");
    return id;
  }
  /* true if the timer was pending and is now cancelled (its message
   * freed); false if it fired or was cancelled before. [any thread] */
  bool cancel_timer(std::uint64_t timer_id) const {
    airs_status st = airs_cancel_timer(rt_, timer_id);
    if (st == AIRS_ENOTFOUND) return false;
    detail::check(st, "airs_cancel_timer");
    return true;
  }

  /* Sends request `msg` and waits for its reply (airs_call): returns the
   * reply, of type T::reply_type. Throws ETIMEDOUT when `timeout` passes
   * (a later reply is dropped), EEXITED when the callee ends first,
   * ENOPROC when it is not alive, EINVAL when the reply is not a
   * well-formed reply_type. [not inside a callback: ESTATE] */
  template <class... Ms, class T, class Rep, class Period>
  typename detail::reply_of<std::decay_t<T>>::type call(
      typed_pid<Ms...> to, T&& msg,
      std::chrono::duration<Rep, Period> timeout) const {
    using V = std::decay_t<T>;
    using R = typename detail::reply_of<V>::type;
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    static_assert(!detail::is_wrapper_v<T>, AIRS_HPP_VALUE_ONLY);
    static_assert(!std::is_void<R>::value,
                  "airs: call needs a request type (one with a reply_type)");
    std::uint32_t ms = detail::to_timeout_ms(timeout, "airs_call");
    airs_msg* m = detail::make_msg(std::forward<T>(msg));
    airs_msg* reply = nullptr;
    airs_status st = airs_call(rt_, to.id(), m, ms, &reply);
    if (st != AIRS_OK) {
      // Consumed once sent (OK, ETIMEDOUT, EEXITED); ours otherwise.
      if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED) airs_msg_free(m);
      detail::fail(st, "airs_call");
    }
    std::unique_ptr<airs_msg, void (*)(airs_msg*)> owned(reply, &airs_msg_free);
    std::optional<R> out;
    bool ok =
        airs_msg_type(reply) == detail::tag_of<R>() &&
        detail::read_msg<R>(reply, [&](auto& r) {
          if constexpr (std::is_const_v<std::remove_reference_t<decltype(r)>>)
            out.emplace(r);
          else
            out.emplace(std::move(r));
        });
    if (!ok)
      throw error(AIRS_EINVAL,
                  "airs_call: the reply is not a well-formed reply_type (tag " +
                      std::to_string(airs_msg_type(reply)) + ")");
    return std::move(*out);
  }

  /* Sends request `msg` and returns at once with a future of its reply
   * (R = T::reply_type). A small process of its own makes the request
   * (airs_request) and settles the future: with the reply, or with an
   * airs::error: ETIMEDOUT after `timeout`, EINVAL for a reply that is not
   * an R, EEXITED if that process is stopped first (the runtime freed).
   * Throws at once what the request cannot start with (ENOPROC: `to` is
   * not alive). [any thread]; but wait on the future outside callbacks
   * (a blocked worker runs nothing), and in host-driven mode poll the
   * runtime until it is ready. */
  template <class... Ms, class T, class Rep, class Period>
  std::future<typename detail::reply_of<std::decay_t<T>>::type> ask(
      typed_pid<Ms...> to, T&& msg,
      std::chrono::duration<Rep, Period> timeout) const;

  /* Exit signals and waiting (airs_stop, airs_kill, airs_send_exit,
   * airs_wait). stop/kill throw ENOPROC for a process that has ended.
   * wait: true once `p` has ended, false if `timeout` passed first
   * [not inside a callback]. */
  void stop(airs_pid p) const { detail::check(airs_stop(rt_, p), "airs_stop"); }
  void kill(airs_pid p) const { detail::check(airs_kill(rt_, p), "airs_kill"); }
  void send_exit(airs_pid p, const exit_reason& r) const {
    detail::check(airs_send_exit(rt_, p, static_cast<airs_exit_kind>(r.kind),
                                 r.code, r.text.c_str()),
                  "airs_send_exit");
  }
  template <class Rep, class Period>
  bool wait(airs_pid p, std::chrono::duration<Rep, Period> timeout) const {
    airs_status st =
        airs_wait(rt_, p, detail::to_timeout_ms(timeout, "airs_wait"));
    if (st == AIRS_ETIMEDOUT) return false;
    detail::check(st, "airs_wait");
    return true;
  }
  bool is_alive(airs_pid p) const { return airs_is_alive(rt_, p); }
  template <class... Ms>
  void stop(typed_pid<Ms...> p) const {
    stop(p.id());
  }
  template <class... Ms>
  void kill(typed_pid<Ms...> p) const {
    kill(p.id());
  }
  template <class... Ms, class Rep, class Period>
  bool wait(typed_pid<Ms...> p, std::chrono::duration<Rep, Period> t) const {
    return wait(p.id(), t);
  }
  template <class... Ms>
  bool is_alive(typed_pid<Ms...> p) const {
    return is_alive(p.id());
  }

  /* The registry (airs_register, airs_unregister, airs_whereis). A name
   * is released when its process ends. register_name throws EEXIST (name
   * taken, or the process has a name), ENOPROC, EINVAL (empty or longer
   * than AIRS_NAME_MAX). unregister_name: false if it was not registered.
   * whereis: std::nullopt if not registered; the typed form trusts that
   * the name's process takes H's types (see typed_pid::unchecked).
   * [any thread] */
  void register_name(const std::string& name, airs_pid p) const {
    detail::check(airs_register(rt_, name.c_str(), p), "airs_register");
  }
  template <class... Ms>
  void register_name(const std::string& name, typed_pid<Ms...> p) const {
    register_name(name, p.id());
  }
  bool unregister_name(const std::string& name) const {
    airs_status st = airs_unregister(rt_, name.c_str());
    if (st == AIRS_ENOTFOUND) return false;
    detail::check(st, "airs_unregister");
    return true;
  }
  std::optional<airs_pid> whereis(const std::string& name) const {
    airs_pid p = 0;
    airs_status st = airs_whereis(rt_, name.c_str(), &p);
    if (st == AIRS_ENOTFOUND) return std::nullopt;
    detail::check(st, "airs_whereis");
    return p;
  }
  template <class H>
  std::optional<H> whereis(const std::string& name) const {
    std::optional<airs_pid> p = whereis(name);
    if (!p) return std::nullopt;
    return H::unchecked(*p);
  }

  /* Pools: named groups of pids to spread work over (airs_pool_join,
   * airs_pool_leave, airs_pool_pick). A member that ends leaves by
   * itself. pool_leave: false if `p` was not a member. pool_pick:
   * std::nullopt if the pool is empty; typed as for whereis. */
  void pool_join(const std::string& pool, airs_pid p) const {
    detail::check(airs_pool_join(rt_, pool.c_str(), p), "airs_pool_join");
  }
  bool pool_leave(const std::string& pool, airs_pid p) const {
    airs_status st = airs_pool_leave(rt_, pool.c_str(), p);
    if (st == AIRS_ENOTFOUND) return false;
    detail::check(st, "airs_pool_leave");
    return true;
  }
  template <class H>
  std::optional<H> pool_pick(const std::string& pool,
                             airs_pick how = AIRS_PICK_ROUND_ROBIN) const {
    airs_pid p = 0;
    airs_status st = airs_pool_pick(rt_, pool.c_str(), how, &p);
    if (st == AIRS_ENOTFOUND) return std::nullopt;
    detail::check(st, "airs_pool_pick");
    return H::unchecked(p);
  }

  /* Starts a supervision tree from `spec` (airs_supervisor_start): every
   * child's constructor and on_start run on this thread, in order. Throws
   * the status of the first start that failed (the ones already started
   * are stopped first). [any thread] */
  inline supervisor_ref start_supervisor(const supervisor_spec& spec) const;

  /* Counters of the whole runtime (airs_runtime_stats_get). */
  airs_runtime_stats stats() const {
    airs_runtime_stats s{};
    s.version = AIRS_RUNTIME_STATS_VERSION;
    s.size = sizeof s;
    detail::check(airs_runtime_stats_get(rt_, &s), "airs_runtime_stats_get");
    return s;
  }

  /* Host-driven mode (workers 0): runs up to `budget` turns on this thread
   * and returns how many ran (airs_runtime_poll); run_until_idle polls
   * until nothing is left to run. [not inside a callback] */
  std::uint32_t poll(std::uint32_t budget = 64) const {
    std::uint32_t ran = 0;
    detail::check(airs_runtime_poll(rt_, budget, &ran), "airs_runtime_poll");
    return ran;
  }
  void run_until_idle() const {
    while (poll() > 0) {
    }
  }
  /* With a manual clock: moves time forward (airs_runtime_advance_time). */
  template <class Rep, class Period>
  void advance_time(std::chrono::duration<Rep, Period> d) const {
    detail::check(
        airs_runtime_advance_time(rt_, detail::to_ms(d, "advance_time")),
        "airs_runtime_advance_time");
  }

 protected:
  airs_runtime* rt_;
};

/* A runtime (airs_runtime_new), freed with the object (airs_runtime_free:
 * stops every process, joins the threads). Move-only. Must not be
 * destroyed inside one of its own callbacks. */
class runtime : public runtime_ref {
 public:
  runtime() : runtime_ref(make(nullptr)) {}
  explicit runtime(const config& cfg) : runtime_ref(make(cfg.c_config())) {}
  ~runtime() { close(); }
  runtime(runtime&& other) noexcept
      : runtime_ref(other.rt_), hooks_(std::move(other.hooks_)) {
    other.rt_ = nullptr;
  }
  runtime& operator=(runtime&& other) noexcept {
    if (this != &other) {
      close();
      rt_ = other.rt_;
      hooks_ = std::move(other.hooks_);
      other.rt_ = nullptr;
    }
    return *this;
  }
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /* Calls fn for each monitoring event (airs_set_event_hook), on the
   * thread that decides (a worker): fn must not block and must not throw
   * (an exception is dropped at the C boundary). An empty fn removes the
   * hook. The functions stay alive until the runtime is freed, because a
   * replaced hook may still be running on another thread. [any thread] */
  void set_event_hook(std::function<void(const airs_event&)> fn) {
    if (!fn) {
      detail::check(airs_set_event_hook(rt_, nullptr, nullptr),
                    "airs_set_event_hook");
      return;
    }
    hooks_.push_back(std::make_unique<std::function<void(const airs_event&)>>(
        std::move(fn)));
    detail::check(
        airs_set_event_hook(rt_, &event_trampoline, hooks_.back().get()),
        "airs_set_event_hook");
  }

  /* Frees the runtime now (the destructor then does nothing). */
  void close() noexcept {
    airs_runtime_free(rt_);
    rt_ = nullptr;
    hooks_.clear();
  }

 private:
  static airs_runtime* make(const airs_config* cfg) {
    airs_runtime* rt = nullptr;
    detail::check(airs_runtime_new(cfg, &rt), "airs_runtime_new");
    return rt;
  }
  static void event_trampoline(void* user_data,
                               const airs_event* event) noexcept {
    try {
      (*static_cast<std::function<void(const airs_event&)>*>(user_data))(
          *event);
    } catch (...) {
    }
  }
  std::vector<std::unique_ptr<std::function<void(const airs_event&)>>> hooks_;
};

/* ------------------------------------------------------------------------
 * Actors.
 * ---------------------------------------------------------------------- */

namespace detail {

struct pending_reply {
  virtual ~pending_reply() = default;
  // Runs the reply callback if `msg` is a well-formed reply, else the
  // error callback with EINVAL.
  virtual void reply(const airs_msg* msg) = 0;
  virtual void fail(const error& e) = 0;
};

template <class R, class OnReply, class OnError>
struct pending_reply_of final : pending_reply {
  pending_reply_of(OnReply r, OnError e)
      : on_reply(std::move(r)), on_error(std::move(e)) {}
  void reply(const airs_msg* msg) override {
    bool ok =
        airs_msg_type(msg) == tag_of<R>() && read_msg<R>(msg, [&](auto& r) {
          using V = std::remove_reference_t<decltype(r)>;
          if constexpr (std::is_const_v<V> &&
                        !std::is_invocable_v<OnReply&, const R&>)
            on_error(error(AIRS_EINVAL,
                           "request: a shared reply for a "
                           "callback that takes R&"));
          else
            on_reply(r);
        });
    if (!ok)
      on_error(error(AIRS_EINVAL,
                     "request: the reply is not a well-formed "
                     "reply_type (tag " +
                         std::to_string(airs_msg_type(msg)) + ")"));
  }
  void fail(const error& e) override { on_error(e); }
  OnReply on_reply;
  OnError on_error;
};

}  // namespace detail

/* What every actor can do from inside its handlers, on_start and on_stop:
 * the [inside a callback] calls of the C API, on the process the handler
 * runs for. Only there: the context they use is the current callback's
 * (called from elsewhere, the C call refuses the stale context with
 * ESTATE, and this throws). */
class actor_base {
 protected:
  // Not virtual: a process's object is always deleted as its own class.
  ~actor_base() = default;
  actor_base() = default;
  actor_base(const actor_base&) = delete;
  actor_base& operator=(const actor_base&) = delete;

  /* This process's pid (airs_self). */
  airs_pid self() const { return airs_self(ctx_); }
  /* Its runtime, borrowed (registry, topics, timers, supervisors). */
  runtime_ref runtime() const { return runtime_ref(airs_ctx_runtime(ctx_)); }
  /* The sender of the message being handled (0 if it came from outside
   * any process), and the same as a typed pid the caller vouches for. */
  airs_pid sender() const { return airs_msg_sender(current_); }
  template <class H>
  H sender_as() const {
    return H::unchecked(sender());
  }

  /* Sends from this process: the fast path (airs_ctx_send). Throws as
   * runtime_ref::send; an uncaught throw ends this process. */
  template <class... Ms, class T>
  void send(typed_pid<Ms...> to, T&& msg) const {
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    airs_status st = detail::send_ctx(ctx_, to.id(), std::forward<T>(msg));
    if (st != AIRS_OK) detail::fail(st, "airs_ctx_send");
  }
  template <class... Ms, class T>
  airs_status try_send(typed_pid<Ms...> to, T&& msg) const noexcept {
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    return detail::status_of(
        [&] { return detail::send_ctx(ctx_, to.id(), std::forward<T>(msg)); });
  }

  /* Sends request `msg` (airs_request) and returns at once. Later, in this
   * process, exactly one of the two callbacks runs: on_reply(R&) with the
   * reply (R = T::reply_type), or on_error(const airs::error&) with
   * ETIMEDOUT after `timeout`, or EINVAL for a reply that is not an R.
   * Either may throw: as a handler, that ends the process. The callbacks
   * are dropped with the actor if it ends first. */
  template <class... Ms, class T, class Rep, class Period, class OnReply,
            class OnError>
  void request(typed_pid<Ms...> to, T&& msg,
               std::chrono::duration<Rep, Period> timeout, OnReply on_reply,
               OnError on_error) {
    using V = std::decay_t<T>;
    using R = typename detail::reply_of<V>::type;
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    static_assert(!detail::is_wrapper_v<T>, AIRS_HPP_VALUE_ONLY);
    static_assert(!std::is_void<R>::value,
                  "airs: request needs a request type (one with a reply_type)");
    std::uint32_t ms = detail::to_timeout_ms(timeout, "airs_request");
    auto entry =
        std::make_unique<detail::pending_reply_of<R, OnReply, OnError>>(
            std::move(on_reply), std::move(on_error));
    airs_msg* m = detail::make_msg(std::forward<T>(msg));
    std::uint64_t correlation = 0;
    airs_status st = airs_request(ctx_, to.id(), m, ms, &correlation);
    if (st != AIRS_OK) {
      airs_msg_free(m);
      detail::fail(st, "airs_request");
    }
    if (!pending_) pending_ = std::make_unique<pending_map>();
    (*pending_)[correlation] = std::move(entry);
  }

  /* The payload of the message being handled, when it came shared (a
   * publish, or a send of a payload<T>): a new reference, so a handler can
   * keep what it got as const T& past its return with no copy. Empty when
   * that message was sent as a plain value (copy it instead), or is not a
   * T in this layer's format. */
  template <class T>
  payload<T> shared_payload() const {
    if (airs_msg_type(current_) != detail::tag_of<T>()) return payload<T>();
    return payload<T>::adopt_if_fits(airs_msg_payload(current_));
  }

  /* The correlation id of the request being handled (0 for a plain
   * message): keep it to answer later with reply_to, from another handler
   * (gen_server:reply). */
  std::uint64_t correlation() const { return airs_msg_correlation(current_); }
  template <class R>
  void reply_to(std::uint64_t correlation, R&& reply) const {
    static_assert(!detail::is_wrapper_v<R>, AIRS_HPP_VALUE_ONLY);
    airs_msg* m = detail::make_msg(std::forward<R>(reply));
    airs_status st = airs_reply_to(ctx_, correlation, m);
    if (st != AIRS_OK) {
      airs_msg_free(m);
      detail::fail(st, "airs_reply_to");
    }
  }

  /* Spawns an actor from this process (airs_ctx_spawn); spawn_link links
   * it to this process before it runs (AIRS_SPAWN_LINK). */
  template <class A, class... Args>
  typename A::handle spawn(Args&&... args) const {
    return spawn_opts<A>(false, spawn_options{}, std::forward<Args>(args)...);
  }
  template <class A, class... Args>
  typename A::handle spawn_link(Args&&... args) const {
    return spawn_opts<A>(true, spawn_options{}, std::forward<Args>(args)...);
  }
  template <class A, class... Args>
  typename A::handle spawn_opts(bool link, const spawn_options& o,
                                Args&&... args) const {
    airs_spawn_opts opts = detail::c_spawn_opts(airs_ctx_runtime(ctx_), o);
    if (link) opts.flags |= AIRS_SPAWN_LINK;
    airs_ctx* ctx = ctx_;
    return detail::spawn_with<A>(
        [&](const airs_behaviour* b, void* ud, void (*ud_free)(void*),
            airs_pid* out) {
          return airs_ctx_spawn(ctx, b, ud, ud_free, &opts, out);
        },
        detail::make_factory<A>(std::forward<Args>(args)...), "airs_ctx_spawn");
  }

  /* Ends this process with `reason` once the current handler returns
   * (airs_exit). Inside on_start it fails the spawn (ESTATE). */
  void exit(const exit_reason& reason = exit_reason::normal()) const {
    detail::check(airs_exit(ctx_, static_cast<airs_exit_kind>(reason.kind),
                            reason.code, reason.text.c_str()),
                  "airs_exit");
  }
  /* Links, exit trapping and monitors (airs_link, airs_unlink,
   * airs_trap_exit, airs_monitor, airs_demonitor). With trapping on, exit
   * signals come to on_exit; a monitor's end comes to on_down. */
  void link(airs_pid p) const {
    detail::check(airs_link(ctx_, p), "airs_link");
  }
  void unlink(airs_pid p) const {
    detail::check(airs_unlink(ctx_, p), "airs_unlink");
  }
  void trap_exit(bool on) const {
    detail::check(airs_trap_exit(ctx_, on), "airs_trap_exit");
  }
  std::uint64_t monitor(airs_pid p) const {
    std::uint64_t ref = 0;
    detail::check(airs_monitor(ctx_, p, &ref), "airs_monitor");
    return ref;
  }
  void demonitor(std::uint64_t ref) const {
    detail::check(airs_demonitor(ctx_, ref), "airs_demonitor");
  }

  /* The C context of the current callback, for C calls this layer does
   * not wrap. Valid only during the handler. */
  airs_ctx* c_ctx() const { return ctx_; }

  /* Overridable by hiding (the actor class defines a function of the same
   * name; no virtual call is made):
   *   void on_start();                     after construction, in the
   *                                        process (init); may throw
   *   void on_stop(const exit_reason&);    once, as the process ends
   *   void on_exit(const exit_msg&);       a trapped exit signal
   *   void on_down(const down_msg&);       a monitor fired
   *   void on_unexpected(const envelope&); a message of no listed type
   *   airs_health health();                polled by a supervisor with
   *                                        health checks (optional)
   * Defaults: on_exit ends this process with the signal's reason unless
   * it is normal (as if it did not trap: write on_exit to decide
   * otherwise); on_unexpected ignores the message, as gen_server's default
   * handle_info does (which also logs it: there is no logger here); the
   * others do nothing. */
  void on_start() {}
  void on_stop(const exit_reason&) {}
  void on_exit(const exit_msg& m) {
    if (m.reason.kind != exit_kind::normal) exit(m.reason);
  }
  void on_down(const down_msg&) {}
  void on_unexpected(const envelope&) {}

 private:
  template <class Self, class... Ms>
  friend class actor;

  // Set by the trampolines before each callback runs.
  airs_ctx* ctx_ = nullptr;
  const airs_msg* current_ = nullptr;
  // The requests this actor waits on, made on its first request: most
  // actors never make one and carry one pointer instead of a map.
  using pending_map =
      std::unordered_map<std::uint64_t, std::unique_ptr<detail::pending_reply>>;
  std::unique_ptr<pending_map> pending_;
};

namespace detail {

template <class Self, class T, class = void>
struct handles : std::false_type {};
template <class Self, class T>
struct handles<
    Self, T,
    std::void_t<decltype(std::declval<Self&>().on(std::declval<T&>()))>>
    : std::true_type {};

template <class Self, class T, class = void>
struct handles_const : std::false_type {};
template <class Self, class T>
struct handles_const<
    Self, T,
    std::void_t<decltype(std::declval<Self&>().on(std::declval<const T&>()))>>
    : std::true_type {};

template <class Self, class = void>
struct has_health : std::false_type {};
template <class Self>
struct has_health<Self, std::void_t<decltype(std::declval<Self&>().health())>>
    : std::true_type {};

}  // namespace detail

/* The base of an actor class that takes the message types Ms...:
 *
 *     struct counter : airs::actor<counter, add, get_total> {
 *       void on(const add& m) { total += m.n; }
 *       total on(const get_total&) { return {total}; }  // a request
 *       std::int64_t total = 0;
 *     };
 *     auto c = rt.spawn<counter>();     // an airs::typed_pid<add, get_total>
 *     rt.send(c, add{5});
 *
 * One public `on` per type (taking const M&, M&, or M by value; M& lets a
 * handler move from an owned message, except a published one, which many
 * processes share: that one needs const M&). A handler of a request type
 * returns its reply_type, sent back when the message came as a request
 * (call, request); otherwise the value is dropped. A handler of a request
 * that returns void answers nothing now (gen_server's noreply): it keeps
 * correlation() and answers later with reply_to, or the caller times out.
 *
 * Typed pids are a compile-time contract, as in CAF, not Erlang: Erlang's
 * pids take any term. The runtime underneath still carries only tags, so a
 * C sender, or a pid made with unchecked(), can reach an actor with any
 * tag: unknown tags go to on_unexpected, a listed tag with a body that is
 * not that type ends the actor (below). Each start constructs a
 * fresh object from copies of the spawn's arguments and destroys it when
 * the process ends (after on_stop), so a restart never sees a crashed
 * object, as in OTP.
 *
 * An exception out of a handler ends the process with an error reason:
 * an airs::error's status as the code, exception_exit_code for any other,
 * and what() as the text. A message of a listed type that is not
 * well-formed (a C sender put the wrong size under the tag) ends it with
 * code AIRS_EINVAL: a typed actor cannot read it, as a gen_server whose
 * clauses do not match crashes with function_clause. */
template <class Self, class... Ms>
class actor : public actor_base {
  static_assert(detail::all_tags_unique<Ms...>(),
                "airs: two message types of one actor share a tag");

 public:
  using handle = typed_pid<Ms...>;

  /* The C behaviour of Self (for C calls that take one). */
  static const airs_behaviour& behaviour() {
    static const airs_behaviour b = [] {
      airs_behaviour x{};
      x.version = AIRS_BEHAVIOUR_VERSION;
      x.size = sizeof x;
      x.init = &init_cb;
      x.receive = &receive_cb;
      x.terminate = &terminate_cb;
      if constexpr (detail::has_health<Self>::value) x.health = &health_cb;
      return x;
    }();
    return b;
  }

  /* The pid of this process, typed. */
  handle self_handle() const { return handle::unchecked(self()); }

 private:
  Self& me() { return static_cast<Self&>(*this); }

  static airs_status init_cb(void* user_data, airs_ctx* ctx,
                             void** state) noexcept {
    const detail::factory_base* f =
        static_cast<detail::factory_ptr*>(user_data)->get();
    if (f->type_key != &detail::type_key_v<Self>) {
      detail::init_failure_text() =
          "a dynamic child of another actor class than its supervisor's "
          "template";
      return AIRS_EINVAL;
    }
    Self* obj = nullptr;
    try {
      obj = static_cast<Self*>(f->create());
      obj->ctx_ = ctx;
      obj->me().on_start();
      obj->ctx_ = nullptr;
    } catch (const error& e) {
      detail::init_failure_text() = e.what();
      delete obj;
      return e.status() == AIRS_OK ? AIRS_EINVAL : e.status();
    } catch (const std::bad_alloc&) {
      delete obj;
      return AIRS_ENOMEM;
    } catch (const std::exception& e) {
      detail::init_failure_text() = e.what();
      delete obj;
      return AIRS_EINVAL;
    } catch (...) {
      detail::init_failure_text() = "unknown exception";
      delete obj;
      return AIRS_EINVAL;
    }
    *state = obj;
    return AIRS_OK;
  }

  static airs_status receive_cb(void* state, airs_ctx* ctx,
                                const airs_msg* msg) noexcept {
    Self* obj = static_cast<Self*>(state);
    obj->ctx_ = ctx;
    obj->current_ = msg;
    try {
      obj->dispatch(msg);
    } catch (const error& e) {
      airs_exit(ctx, AIRS_EXIT_ERROR, e.status(), e.what());
    } catch (const std::exception& e) {
      airs_exit(ctx, AIRS_EXIT_ERROR, exception_exit_code, e.what());
    } catch (...) {
      airs_exit(ctx, AIRS_EXIT_ERROR, exception_exit_code, "unknown exception");
    }
    return AIRS_OK;
  }

  static void terminate_cb(void* state, airs_ctx* ctx,
                           const airs_reason* reason) noexcept {
    Self* obj = static_cast<Self*>(state);
    obj->ctx_ = ctx;
    obj->current_ = nullptr;
    try {
      obj->me().on_stop(exit_reason::from(reason));
    } catch (...) {
      // The process is ending already; there is no one left to tell.
    }
    delete obj;
  }

  static airs_health health_cb(void* state, airs_ctx* ctx) noexcept {
    Self* obj = static_cast<Self*>(state);
    obj->ctx_ = ctx;
    try {
      return static_cast<airs_health>(obj->me().health());
    } catch (...) {
      return AIRS_HEALTH_FAILED;
    }
  }

  // The hot path: the tag, then one compare per listed type. What is rare
  // (replies, system messages, unknown tags) is out of line, so that this
  // function stays small.
  void dispatch(const airs_msg* msg) {
    // One library call for the tag, the size and the data.
    std::uint64_t tag = 0;
    std::size_t size = 0;
    [[maybe_unused]] const void* data = airs_msg_read(msg, &tag, &size);
    if (pending_ && !pending_->empty() && dispatch_reply(tag, msg)) return;
    if ((deliver_if<Ms>(tag, msg, data, size) || ...)) return;
    dispatch_other(tag, msg);
  }

  // A reply or a timeout of a request this actor made: its callback.
  // DOWN messages also carry a correlation (the monitor's ref), from
  // another counter, so they never look here.
  AIRS_HPP_NOINLINE bool dispatch_reply(std::uint64_t tag,
                                        const airs_msg* msg) {
    if (tag == AIRS_MSG_DOWN || tag == AIRS_MSG_EXIT) return false;
    auto it = pending_->find(airs_msg_correlation(msg));
    if (it == pending_->end()) return false;
    std::unique_ptr<detail::pending_reply> entry = std::move(it->second);
    pending_->erase(it);
    if (tag == AIRS_MSG_TIMEOUT)
      entry->fail(error(AIRS_ETIMEDOUT, "airs_request: no reply in time"));
    else
      entry->reply(msg);
    return true;
  }

  AIRS_HPP_NOINLINE void dispatch_other(std::uint64_t tag,
                                        const airs_msg* msg) {
    switch (tag) {
      case AIRS_MSG_EXIT:
        me().on_exit(exit_msg{airs_msg_sender(msg),
                              exit_reason::from(airs_msg_reason(msg))});
        return;
      case AIRS_MSG_DOWN:
        me().on_down(down_msg{airs_msg_sender(msg), airs_msg_correlation(msg),
                              exit_reason::from(airs_msg_reason(msg))});
        return;
      default: me().on_unexpected(envelope(msg)); return;
    }
  }

  [[noreturn]] AIRS_HPP_NOINLINE static void throw_malformed(
      const airs_msg* msg) {
    throw error(AIRS_EINVAL, "malformed message: tag " +
                                 std::to_string(airs_msg_type(msg)) + " with " +
                                 std::to_string(airs_msg_size(msg)) +
                                 " bytes is not a well-formed message of the "
                                 "type with that tag");
  }

  template <class T>
  bool deliver_if(std::uint64_t tag, const airs_msg* msg, const void* data,
                  std::size_t size) {
    if (tag != detail::tag_of<T>()) return false;
    static_assert(detail::handles_const<Self, T>::value ||
                      detail::handles<Self, T>::value,
                  "airs: the actor lists a message type it has no public "
                  "`on(const T&)` handler for");
    bool ok = detail::read_msg<T>(msg, data, size, [&](auto& value) {
      using V = std::remove_reference_t<decltype(value)>;
      if constexpr (std::is_const_v<V> &&
                    !detail::handles_const<Self, T>::value) {
        throw error(AIRS_EINVAL,
                    "a published message reached a handler that takes a "
                    "non-const reference; take const T&");
      } else {
        invoke<T>(value, msg);
      }
    });
    if (!ok) throw_malformed(msg);
    return true;
  }

  template <class T, class V>
  void invoke(V& value, const airs_msg* msg) {
    using Result = decltype(me().on(value));
    if constexpr (std::is_void<Result>::value) {
      me().on(value);
    } else {
      using R = typename detail::reply_of<T>::type;
      static_assert(std::is_same<std::decay_t<Result>, R>::value,
                    "airs: a handler returns a value: its message type must "
                    "be a request whose reply_type is that value's type");
      Result reply = me().on(value);
      if (airs_msg_correlation(msg) == 0) return;
      airs_msg* m = detail::make_msg(std::move(reply));
      airs_status st = airs_reply(ctx_, msg, m);
      if (st != AIRS_OK) {
        airs_msg_free(m);
        detail::fail(st, "airs_reply");
      }
    }
  }
};

namespace detail {

template <class V, class R>
struct ask_state {
  explicit ask_state(V&& m) : msg(std::move(m)) {}
  std::optional<V> msg;
  std::promise<R> promise;
  bool settled = false;
};

// The process behind runtime_ref::ask: makes the request in on_start,
// settles the promise once and ends. It takes no messages of its own.
template <class V, class R, class... Ms>
class asker final : public actor<asker<V, R, Ms...>> {
 public:
  asker(std::shared_ptr<ask_state<V, R>> state, typed_pid<Ms...> to,
        std::uint32_t timeout_ms)
      : state_(std::move(state)), to_(to), timeout_ms_(timeout_ms) {}

  void on_start() {
    this->request(
        to_, std::move(*state_->msg), std::chrono::milliseconds(timeout_ms_),
        [this](auto& reply) {
          using Reply = std::remove_reference_t<decltype(reply)>;
          if constexpr (std::is_const_v<Reply>)
            settle([&] { state_->promise.set_value(reply); });
          else
            settle([&] { state_->promise.set_value(std::move(reply)); });
        },
        [this](const error& e) {
          settle([&] {
            state_->promise.set_exception(std::make_exception_ptr(e));
          });
        });
  }
  void on_stop(const exit_reason& reason) {
    settle(
        [&] {
          state_->promise.set_exception(std::make_exception_ptr(
              error(AIRS_EEXITED, "ask: stopped before the reply came (" +
                                      reason.describe() + ")")));
        },
        false);
  }

 private:
  // The reply, the error or the stop, whichever comes first; after a reply
  // or an error the process has nothing left to do and ends.
  template <class Fn>
  void settle(Fn&& fn, bool then_exit = true) {
    if (state_->settled) return;
    state_->settled = true;
    fn();
    if (then_exit) this->exit();
  }

  std::shared_ptr<ask_state<V, R>> state_;
  typed_pid<Ms...> to_;
  std::uint32_t timeout_ms_;
};

}  // namespace detail

template <class... Ms, class T, class Rep, class Period>
std::future<typename detail::reply_of<std::decay_t<T>>::type> runtime_ref::ask(
    typed_pid<Ms...> to, T&& msg,
    std::chrono::duration<Rep, Period> timeout) const {
  using V = std::decay_t<T>;
  using R = typename detail::reply_of<V>::type;
  static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
  static_assert(!detail::is_wrapper_v<T>, AIRS_HPP_VALUE_ONLY);
  static_assert(!std::is_void<R>::value,
                "airs: ask needs a request type (one with a reply_type)");
  std::uint32_t ms = detail::to_timeout_ms(timeout, "airs_request");
  auto state =
      std::make_shared<detail::ask_state<V, R>>(V(std::forward<T>(msg)));
  std::future<R> future = state->promise.get_future();
  spawn<detail::asker<V, R, Ms...>>(state, to, ms);
  return future;
}

/* ------------------------------------------------------------------------
 * Topics.
 * ---------------------------------------------------------------------- */

/* A named topic whose messages are T (airs_subscribe, airs_publish). Only
 * a pid that takes T may subscribe (compile time). A topic object is just
 * its name: cheap to copy, one per use is fine. [any thread] */
template <class T>
class topic {
 public:
  explicit topic(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  /* Subscribing twice is the same as once; a subscriber that ends is
   * removed. Throws ENOPROC, EINVAL (empty or too long name). */
  template <class... Ms>
  void subscribe(runtime_ref rt, typed_pid<Ms...> p) const {
    static_assert(typed_pid<Ms...>::template accepts<T>, AIRS_HPP_NOT_ACCEPTED);
    detail::check(airs_subscribe(rt.c_runtime(), name_.c_str(), p.id()),
                  "airs_subscribe");
  }
  /* false if `p` was not subscribed. */
  template <class... Ms>
  bool unsubscribe(runtime_ref rt, typed_pid<Ms...> p) const {
    airs_status st = airs_unsubscribe(rt.c_runtime(), name_.c_str(), p.id());
    if (st == AIRS_ENOTFOUND) return false;
    detail::check(st, "airs_unsubscribe");
    return true;
  }
  /* Delivers one shared copy of `msg` to every subscriber (zero copy per
   * subscriber; a non-trivially-copyable T is shared, so its handlers
   * take const T&). `msg` is a T, or a payload<T> to share one that
   * exists (the caller keeps its reference; an empty one throws EINVAL).
   * Returns how many subscribers it reached (0: nobody subscribes; the
   * message went to the dead-letter hook). */
  template <class U>
  std::size_t publish(runtime_ref rt, U&& msg) const {
    using V = std::decay_t<U>;
    static_assert(
        std::is_same<V, T>::value || std::is_same<V, airs::payload<T>>::value,
        "airs: this topic does not carry this message type");
    std::size_t delivered = 0;
    if constexpr (detail::is_payload_v<V>) {
      detail::check(
          airs_publish(rt.c_runtime(), name_.c_str(), detail::tag_of<T>(),
                       msg.c_payload(), &delivered),
          "airs_publish");
    } else {
      airs_payload* shared = detail::make_payload(std::forward<U>(msg));
      airs_status st = airs_publish(rt.c_runtime(), name_.c_str(),
                                    detail::tag_of<T>(), shared, &delivered);
      airs_payload_release(shared);
      detail::check(st, "airs_publish");
    }
    return delivered;
  }

 private:
  std::string name_;
};

/* ------------------------------------------------------------------------
 * Supervisors.
 * ---------------------------------------------------------------------- */

enum class strategy {
  one_for_one = AIRS_ONE_FOR_ONE,
  one_for_all = AIRS_ONE_FOR_ALL,
  rest_for_one = AIRS_REST_FOR_ONE,
  simple_one_for_one = AIRS_SIMPLE_ONE_FOR_ONE
};

enum class restart {
  permanent = AIRS_RESTART_PERMANENT,
  transient = AIRS_RESTART_TRANSIENT,
  temporary = AIRS_RESTART_TEMPORARY
};

/* One child of a supervisor_spec: make it with worker<A>(id, args...) or
 * supervisor_child(id, spec), then adjust it fluently. A value: copy it,
 * keep it, add it to several specs. Checked when the spec is built (at
 * start), where a bad value throws EINVAL naming the problem. */
class child_spec {
 public:
  child_spec& restart(airs::restart r) {
    restart_ = static_cast<airs_restart>(r);
    return *this;
  }
  /* Ask it to stop (exit signal shutdown) and kill it after `d`. */
  template <class Rep, class Period>
  child_spec& shutdown_after(std::chrono::duration<Rep, Period> d) {
    shutdown_ = AIRS_SHUTDOWN_TIMEOUT;
    shutdown_ms_ = detail::to_timeout_ms(d, "child_spec::shutdown_after");
    return *this;
  }
  child_spec& brutal_kill() {
    shutdown_ = AIRS_SHUTDOWN_BRUTAL_KILL;
    return *this;
  }
  child_spec& shutdown_infinity() {
    shutdown_ = AIRS_SHUTDOWN_INFINITY;
    return *this;
  }
  /* See AIRS_CHILD_SIGNIFICANT (transient or temporary children only). */
  child_spec& significant() {
    flags_ |= AIRS_CHILD_SIGNIFICANT;
    return *this;
  }
  /* Registers each start under `name` before it runs, so a restarted
   * child keeps its name. */
  child_spec& registered_as(std::string name) {
    name_ = std::move(name);
    return *this;
  }
  const std::string& id() const { return id_; }

 private:
  template <class A, class... Args>
  friend child_spec worker(std::string id, Args&&... args);
  friend child_spec supervisor_child(std::string id,
                                     const supervisor_spec& spec);
  friend class supervisor_spec;
  friend class supervisor_ref;

  explicit child_spec(std::string id) : id_(std::move(id)) {}

  // Appends this child to `spec` (airs_sup_spec_add_child), or starts it
  // under a running supervisor (airs_supervisor_start_child).
  template <class AddFn>
  airs_status add(AddFn&& add_fn) const;

  std::string id_;
  const airs_behaviour* behaviour_ = nullptr;
  detail::factory_ptr factory_;
  std::shared_ptr<const supervisor_spec> sub_;
  airs_restart restart_ = AIRS_RESTART_PERMANENT;
  airs_shutdown shutdown_ = AIRS_SHUTDOWN_DEFAULT;
  std::uint32_t shutdown_ms_ = 5000;
  std::uint32_t flags_ = 0;
  std::optional<std::string> name_;
};

/* A worker child: each start constructs a fresh A from copies of args. */
template <class A, class... Args>
child_spec worker(std::string id, Args&&... args) {
  child_spec c(std::move(id));
  c.behaviour_ = &A::behaviour();
  c.factory_ = detail::make_factory<A>(std::forward<Args>(args)...);
  return c;
}

/* A supervisor described by a spec: flags (fluent), then children in start
 * order. A plain C++ value: nothing is allocated in the library until a
 * start builds it, so it may be copied, reused and nested. */
class supervisor_spec {
 public:
  explicit supervisor_spec(strategy s = strategy::one_for_one) {
    airs_sup_flags_init(&flags_);
    flags_.strategy = static_cast<std::int32_t>(s);
  }
  /* More than `max_restarts` within `period` and the supervisor gives up
   * (OTP's intensity and period; default 1 in 5 s). */
  template <class Rep, class Period>
  supervisor_spec& intensity(std::uint32_t max_restarts,
                             std::chrono::duration<Rep, Period> period) {
    flags_.intensity = max_restarts;
    flags_.period_ms =
        detail::to_timeout_ms(period, "supervisor_spec::intensity");
    return *this;
  }
  /* Exponential backoff between restarts (not in OTP). */
  template <class Rep, class Period>
  supervisor_spec& backoff(std::chrono::duration<Rep, Period> base,
                           std::chrono::duration<Rep, Period> max) {
    flags_.backoff_base_ms =
        detail::to_timeout_ms(base, "supervisor_spec::backoff");
    flags_.backoff_max_ms =
        detail::to_timeout_ms(max, "supervisor_spec::backoff");
    return *this;
  }
  /* Health checks of children that have a health() (not in OTP). */
  template <class Rep, class Period>
  supervisor_spec& health_checks(std::chrono::duration<Rep, Period> interval,
                                 std::chrono::duration<Rep, Period> timeout,
                                 std::uint32_t threshold) {
    flags_.health_interval_ms =
        detail::to_timeout_ms(interval, "supervisor_spec::health_checks");
    flags_.health_timeout_ms =
        detail::to_timeout_ms(timeout, "supervisor_spec::health_checks");
    flags_.health_threshold = threshold;
    return *this;
  }
  supervisor_spec& auto_shutdown(airs_auto_shutdown when) {
    flags_.auto_shutdown = when;
    return *this;
  }
  /* Appends a child; children start in the order they are added. */
  supervisor_spec& child(child_spec c) {
    children_.push_back(std::move(c));
    return *this;
  }

  /* Builds the C spec (airs_sup_spec_new + add_child per child). The
   * caller owns the result (airs_sup_spec_free). Throws what the C calls
   * return: EINVAL for bad flags or children, EEXIST for a repeated id. */
  airs_sup_spec* build() const {
    airs_sup_spec* spec = nullptr;
    detail::check(airs_sup_spec_new(&flags_, &spec), "airs_sup_spec_new");
    std::unique_ptr<airs_sup_spec, void (*)(airs_sup_spec*)> guard(
        spec, &airs_sup_spec_free);
    for (const child_spec& c : children_)
      detail::check(c.add([spec](const airs_child_spec* cs) {
        return airs_sup_spec_add_child(spec, cs);
      }),
                    "airs_sup_spec_add_child");
    return guard.release();
  }

 private:
  airs_sup_flags flags_;
  std::vector<child_spec> children_;
};

/* A child that is a supervisor itself (type SUPERVISOR, shutdown
 * infinity by default, as OTP). */
inline child_spec supervisor_child(std::string id,
                                   const supervisor_spec& spec) {
  child_spec c(std::move(id));
  c.sub_ = std::make_shared<const supervisor_spec>(spec);
  return c;
}

template <class AddFn>
airs_status child_spec::add(AddFn&& add_fn) const {
  airs_child_spec cs;
  airs_child_spec_init(&cs);
  cs.id = id_.c_str();
  cs.restart = restart_;
  cs.shutdown = shutdown_;
  cs.shutdown_ms = shutdown_ms_;
  cs.flags = flags_;
  cs.name = name_ ? name_->c_str() : nullptr;
  if (sub_) {
    airs_sup_spec* sub = sub_->build();
    cs.supervisor = sub;
    cs.type = AIRS_CHILD_SUPERVISOR;
    airs_status st = add_fn(&cs);
    airs_sup_spec_free(sub);  // the child keeps its own reference
    return st;
  }
  cs.behaviour = behaviour_;
  // The C call takes user_data in every case, failure included.
  cs.user_data = new detail::factory_ptr(factory_);
  cs.user_data_free = &detail::free_factory;
  return add_fn(&cs);
}

/* One row of which_children. */
struct child_info {
  std::string id; /* "" in a simple_one_for_one pool */
  airs_pid pid;   /* 0 unless running or stopping */
  airs_child_type type;
  airs_child_state state;
};

/* A running supervisor: its pid and the operations of supervisor.h. Each
 * throws the C call's failure (ENOPROC: it has ended; ENOTFOUND: no such
 * child; ESTATE: busy, from a callback). [any thread, as supervisor.h] */
class supervisor_ref {
 public:
  supervisor_ref(runtime_ref rt, airs_pid pid) : rt_(rt), pid_(pid) {}
  airs_pid pid() const { return pid_; }

  std::vector<child_info> which_children() const {
    std::vector<airs_child_info> rows(8);
    std::size_t count = 0;
    for (;;) {
      detail::check(
          airs_supervisor_which_children(rt_.c_runtime(), pid_, rows.data(),
                                         rows.size(), &count),
          "airs_supervisor_which_children");
      if (count <= rows.size()) break;
      rows.resize(count);
    }
    std::vector<child_info> out;
    for (std::size_t i = 0; i < count; i++)
      out.push_back({rows[i].id, rows[i].pid,
                     static_cast<airs_child_type>(rows[i].type),
                     static_cast<airs_child_state>(rows[i].state)});
    return out;
  }
  /* The pid of running child `id`, typed by the caller's word; nullopt if
   * there is no such child or it is not running. */
  template <class H>
  std::optional<H> child(const std::string& id) const {
    for (const child_info& c : which_children())
      if (c.id == id && c.state == AIRS_CHILD_RUNNING)
        return H::unchecked(c.pid);
    return std::nullopt;
  }
  airs_child_counts count_children() const {
    airs_child_counts counts{};
    detail::check(
        airs_supervisor_count_children(rt_.c_runtime(), pid_, &counts),
        "airs_supervisor_count_children");
    return counts;
  }
  /* Adds and starts a child (start_child); returns its pid (0 if its
   * start asked to be ignored). */
  airs_pid start_child(const child_spec& c) const {
    airs_pid out = 0;
    airs_runtime* rt = rt_.c_runtime();
    airs_pid sup = pid_;
    detail::init_failure_text().clear();
    detail::check(c.add([&](const airs_child_spec* cs) {
      return airs_supervisor_start_child(rt, sup, cs, &out);
    }),
                  "airs_supervisor_start_child");
    return out;
  }
  /* simple_one_for_one: starts a child of the template's actor class A
   * from copies of args (a different class than the template's fails
   * with EINVAL). */
  template <class A, class... Args>
  typename A::handle start_dynamic_child(Args&&... args) const {
    auto* holder = new detail::factory_ptr(
        detail::make_factory<A>(std::forward<Args>(args)...));
    airs_pid out = 0;
    detail::check(
        airs_supervisor_start_dynamic_child(rt_.c_runtime(), pid_, holder,
                                            &detail::free_factory, &out),
        "airs_supervisor_start_dynamic_child");
    return A::handle::unchecked(out);
  }
  void terminate_child(const std::string& id) const {
    detail::check(
        airs_supervisor_terminate_child(rt_.c_runtime(), pid_, id.c_str()),
        "airs_supervisor_terminate_child");
  }
  template <class... Ms>
  void terminate_child(typed_pid<Ms...> child) const {
    detail::check(
        airs_supervisor_terminate_child_pid(rt_.c_runtime(), pid_, child.id()),
        "airs_supervisor_terminate_child_pid");
  }
  airs_pid restart_child(const std::string& id) const {
    airs_pid out = 0;
    detail::check(
        airs_supervisor_restart_child(rt_.c_runtime(), pid_, id.c_str(), &out),
        "airs_supervisor_restart_child");
    return out;
  }
  void delete_child(const std::string& id) const {
    detail::check(
        airs_supervisor_delete_child(rt_.c_runtime(), pid_, id.c_str()),
        "airs_supervisor_delete_child");
  }

 private:
  runtime_ref rt_;
  airs_pid pid_;
};

inline supervisor_ref runtime_ref::start_supervisor(
    const supervisor_spec& spec) const {
  airs_sup_spec* c_spec = spec.build();
  airs_pid pid = 0;
  detail::init_failure_text().clear();
  airs_status st = airs_supervisor_start(rt_, c_spec, &pid);
  airs_sup_spec_free(c_spec);  // the supervisor keeps its own reference
  if (st != AIRS_OK) {
    std::string text = detail::init_failure_text();
    if (!text.empty())
      throw error(st, std::string("airs_supervisor_start: ") +
                          airs_strerror(st) + " (" + text + ")");
    detail::fail(st, "airs_supervisor_start");
  }
  return supervisor_ref(*this, pid);
}

}  // namespace airs

#undef AIRS_HPP_NOT_ACCEPTED
#undef AIRS_HPP_NOINLINE

#endif /* AIRS_AIRS_HPP */
