// net_api.cpp - sockets owned by processes (net.h), and io.h's fd
// watches and the host's wake-up fd.
#include <cstring>

#include "capi.hpp"
#include "io/net_addr.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

// The options to open a socket with: the defaults for NULL, else the
// caller's, checked against net.h's ranges.
airs_status read_opts(const airs_socket_opts* in, SockOpts* out) {
  *out = SockOpts{};
  if (!in) return AIRS_OK;
  if (in->version != AIRS_SOCKET_OPTS_VERSION)
    return failf(AIRS_EINVAL, "opts version %u is not %u", in->version,
                 AIRS_SOCKET_OPTS_VERSION);
  if (in->size < sizeof(airs_socket_opts))
    return failf(AIRS_EINVAL, "opts size %u is below %zu", in->size,
                 sizeof(airs_socket_opts));
  if (in->active < AIRS_ACTIVE_ALWAYS || in->active > AIRS_ACTIVE_MAX)
    return failf(AIRS_EINVAL, "active %d is not -1..%d", in->active,
                 AIRS_ACTIVE_MAX);
  constexpr uint32_t known =
      AIRS_SOCK_NODELAY | AIRS_SOCK_REUSEADDR | AIRS_SOCK_V6ONLY;
  if (in->flags & ~known)
    return failf(AIRS_EINVAL, "unknown flags 0x%x", in->flags & ~known);
  if (in->send_buffer < 16 || in->send_buffer > (1u << 30))
    return failf(AIRS_EINVAL, "send_buffer %u is not 16..2^30",
                 in->send_buffer);
  if (in->read_size < 16 || in->read_size > (1u << 24))
    return failf(AIRS_EINVAL, "read_size %u is not 16..2^24", in->read_size);
  if (in->backlog == 0 || in->backlog > 65535)
    return failf(AIRS_EINVAL, "backlog %u is not 1..65535", in->backlog);
  if (in->reserved != 0) return fail(AIRS_EINVAL, "reserved is not 0");
  out->active = in->active;
  out->flags = in->flags;
  out->send_buffer = in->send_buffer;
  out->read_size = in->read_size;
  out->backlog = in->backlog;
  return AIRS_OK;
}

airs_status check_addr(const airs_addr* a, const char* name) {
  if (!a) return failf(AIRS_EINVAL, "%s is NULL", name);
  if (a->family != AIRS_AF_INET4 && a->family != AIRS_AF_INET6)
    return failf(AIRS_EINVAL, "%s has family %u (AIRS_AF_INET4 or 6)", name,
                 unsigned(a->family));
  return AIRS_OK;
}

// What every opening call checks before the core: the handle, the
// address, the options and the out pointer.
template <class Open>
airs_status open_socket(airs_runtime* h, const airs_addr* addr,
                        const airs_socket_opts* opts, airs_socket* out,
                        Open&& open) {
  RuntimeUse use(h);
  if (use.status() != AIRS_OK) return use.status();
  if (!out) return fail(AIRS_EINVAL, "out is NULL");
  *out = 0;
  airs_status st = check_addr(addr, "addr");
  SockOpts o;
  if (st == AIRS_OK) st = read_opts(opts, &o);
  if (st != AIRS_OK) return st;
  if (use.runtime()->kernel().stopping())
    return fail(AIRS_ESTATE, "the runtime is shutting down");
  return open(use.runtime()->sockets(), o);
}

// The socket service of a valid handle, for the calls on one socket.
template <class Op>
airs_status on_socket(airs_runtime* h, airs_socket sock, Op&& op) {
  RuntimeUse use(h);
  if (use.status() != AIRS_OK) return use.status();
  if (sock == 0) return fail(AIRS_ENOTFOUND, "socket is 0");
  return op(use.runtime()->sockets());
}

}  // namespace

extern "C" {

airs_status airs_addr_parse(const char* text, airs_addr* out) {
  return api("airs_addr_parse", [&] {
    if (!text || !out) return fail(AIRS_EINVAL, "NULL argument");
    if (!addr_parse(text, out))
      return failf(AIRS_EINVAL,
                   "\"%.80s\" is not a numeric address with a port "
                   "(1.2.3.4:80, [::1]:80)",
                   text);
    return AIRS_OK;
  });
}

airs_status airs_addr_format(const airs_addr* addr, char* buf, size_t size) {
  return api("airs_addr_format", [&] {
    if (!addr || !buf) return fail(AIRS_EINVAL, "NULL argument");
    if (size > 0) buf[0] = '\0';
    if (addr->family != AIRS_AF_INET4 && addr->family != AIRS_AF_INET6)
      return failf(AIRS_EINVAL, "unknown family %u", unsigned(addr->family));
    if (!addr_format(*addr, buf, size)) {
      if (size > 0) buf[0] = '\0';
      return failf(AIRS_EINVAL, "a buffer of %zu bytes is too small", size);
    }
    return AIRS_OK;
  });
}

airs_status airs_socket_opts_init(airs_socket_opts* opts) {
  return api("airs_socket_opts_init", [&] {
    if (!opts) return fail(AIRS_EINVAL, "opts is NULL");
    SockOpts d;
    *opts = airs_socket_opts{};
    opts->version = AIRS_SOCKET_OPTS_VERSION;
    opts->size = sizeof(airs_socket_opts);
    opts->active = d.active;
    opts->flags = d.flags;
    opts->send_buffer = d.send_buffer;
    opts->read_size = d.read_size;
    opts->backlog = d.backlog;
    return AIRS_OK;
  });
}

airs_status airs_tcp_listen(airs_runtime* h, airs_pid owner,
                            const airs_addr* addr, const airs_socket_opts* opts,
                            airs_socket* out) {
  return api("airs_tcp_listen", [&] {
    return open_socket(h, addr, opts, out, [&](Sockets& s, const SockOpts& o) {
      return s.listen(owner, *addr, o, out);
    });
  });
}

airs_status airs_tcp_connect(airs_runtime* h, airs_pid owner,
                             const airs_addr* addr, uint32_t timeout_ms,
                             const airs_socket_opts* opts, airs_socket* out) {
  return api("airs_tcp_connect", [&] {
    return open_socket(h, addr, opts, out, [&](Sockets& s, const SockOpts& o) {
      return s.connect(owner, *addr, timeout_ms, o, out);
    });
  });
}

airs_status airs_udp_open(airs_runtime* h, airs_pid owner,
                          const airs_addr* addr, const airs_socket_opts* opts,
                          airs_socket* out) {
  return api("airs_udp_open", [&] {
    return open_socket(h, addr, opts, out, [&](Sockets& s, const SockOpts& o) {
      return s.udp_open(owner, *addr, o, out);
    });
  });
}

airs_status airs_socket_send(airs_runtime* h, airs_socket sock,
                             const void* data, size_t size, uint64_t ack_ref) {
  return api("airs_socket_send", [&] {
    return on_socket(h, sock, [&](Sockets& s) {
      if (!data && size > 0) return fail(AIRS_EINVAL, "data is NULL");
      return s.send(sock, data, size, ack_ref);
    });
  });
}

airs_status airs_udp_send(airs_runtime* h, airs_socket sock,
                          const airs_addr* to, const void* data, size_t size) {
  return api("airs_udp_send", [&] {
    return on_socket(h, sock, [&](Sockets& s) {
      airs_status st = check_addr(to, "to");
      if (st != AIRS_OK) return st;
      if (!data && size > 0) return fail(AIRS_EINVAL, "data is NULL");
      size_t most = to->family == AIRS_AF_INET4 ? 65507 : 65527;
      if (size > most)
        return failf(AIRS_EINVAL, "a datagram of %zu bytes (at most %zu)", size,
                     most);
      return s.udp_send(sock, *to, data, size);
    });
  });
}

airs_status airs_socket_set_active(airs_runtime* h, airs_socket sock,
                                   int32_t n) {
  return api("airs_socket_set_active", [&] {
    return on_socket(h, sock, [&](Sockets& s) {
      if (n < AIRS_ACTIVE_ALWAYS)
        return failf(AIRS_EINVAL, "n %d is below -1", n);
      return s.set_active(sock, n);
    });
  });
}

airs_status airs_socket_give(airs_runtime* h, airs_socket sock,
                             airs_pid new_owner) {
  return api("airs_socket_give", [&] {
    return on_socket(h, sock,
                     [&](Sockets& s) { return s.give(sock, new_owner); });
  });
}

airs_status airs_socket_shutdown(airs_runtime* h, airs_socket sock) {
  return api("airs_socket_shutdown", [&] {
    return on_socket(h, sock,
                     [&](Sockets& s) { return s.shutdown_send(sock); });
  });
}

airs_status airs_socket_close(airs_runtime* h, airs_socket sock) {
  return api("airs_socket_close", [&] {
    return on_socket(h, sock, [&](Sockets& s) { return s.close(sock); });
  });
}

airs_status airs_socket_addr(airs_runtime* h, airs_socket sock,
                             airs_addr* local, airs_addr* peer) {
  return api("airs_socket_addr", [&] {
    return on_socket(
        h, sock, [&](Sockets& s) { return s.addresses(sock, local, peer); });
  });
}

airs_status airs_datagram_read(const airs_msg* msg, airs_datagram* info,
                               const void** data) {
  return api("airs_datagram_read", [&] {
    if (!msg || !info || !data) return fail(AIRS_EINVAL, "NULL argument");
    if (airs_msg_type(msg) != AIRS_MSG_SOCK_DATAGRAM ||
        airs_msg_size(msg) < sizeof(airs_datagram))
      return fail(AIRS_EINVAL, "not an AIRS_MSG_SOCK_DATAGRAM");
    const char* bytes = static_cast<const char*>(airs_msg_data(msg));
    memcpy(info, bytes, sizeof *info);
    if (airs_msg_size(msg) - sizeof(airs_datagram) < info->size)
      return fail(AIRS_EINVAL, "a datagram message shorter than it says");
    *data = bytes + sizeof(airs_datagram);
    return AIRS_OK;
  });
}

uint64_t airs_socket_count(airs_runtime* h) {
  RuntimeUse use(h);
  if (use.status() != AIRS_OK) return 0;
  return use.runtime()->sockets().count();
}

// The events of an fd watch: AIRS_FD_* bits, at least one.
static airs_status check_fd_events(uint32_t events) {
  constexpr uint32_t known = AIRS_FD_READ | AIRS_FD_WRITE;
  if (events == 0) return fail(AIRS_EINVAL, "events is 0");
  if (events & ~known)
    return failf(AIRS_EINVAL, "unknown events 0x%x", events & ~known);
  return AIRS_OK;
}

// What both kinds of new watch check: the out id, the fd, the events, a
// runtime that takes new watches.
static airs_status check_new_watch(Runtime* rt, int fd, uint32_t events,
                                   const uint64_t* id) {
  if (!id) return fail(AIRS_EINVAL, "id is NULL");
  if (fd < 0) return failf(AIRS_EINVAL, "fd %d is not an fd", fd);
  if (airs_status st = check_fd_events(events); st != AIRS_OK) return st;
  if (rt->kernel().stopping())
    return fail(AIRS_ESTATE, "the runtime is shutting down");
  return AIRS_OK;
}

airs_status airs_fd_watch(airs_runtime* h, int fd, uint32_t events,
                          airs_pid owner, uint64_t* id) {
  return api("airs_fd_watch", [&] {
    if (id) *id = 0;
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (airs_status st = check_new_watch(use.runtime(), fd, events, id);
        st != AIRS_OK)
      return st;
    return use.runtime()->sockets().watch(owner, fd, events, id);
  });
}

airs_status airs_fd_watch_fn(airs_runtime* h, int fd, uint32_t events,
                             airs_fd_fn fn, void* arg, uint64_t* id) {
  return api("airs_fd_watch_fn", [&] {
    if (id) *id = 0;
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!fn) return fail(AIRS_EINVAL, "fn is NULL");
    if (airs_status st = check_new_watch(use.runtime(), fd, events, id);
        st != AIRS_OK)
      return st;
    return use.runtime()->sockets().watch_fn(fd, events, fn, arg, id);
  });
}

airs_status airs_fd_rearm(airs_runtime* h, uint64_t id, uint32_t events) {
  return api("airs_fd_rearm", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (airs_status st = check_fd_events(events); st != AIRS_OK) return st;
    return use.runtime()->sockets().rearm(id, events);
  });
}

airs_status airs_fd_unwatch(airs_runtime* h, uint64_t id) {
  return api("airs_fd_unwatch", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    return use.runtime()->sockets().unwatch(id);
  });
}

airs_status airs_runtime_fd(airs_runtime* h, int* fd) {
  return api("airs_runtime_fd", [&] {
    if (fd) *fd = -1;
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!fd) return fail(AIRS_EINVAL, "fd is NULL");
    return use.runtime()->reactor().host_fd(fd);
  });
}

}  // extern "C"
