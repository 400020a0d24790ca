// server.cpp - the observer endpoint's process (observe.h,
// airs_observer_open): it owns a listening socket and every connection,
// reads each request head, answers it whole and closes the connection
// once the answer has reached the kernel (its SENT acknowledgement).
//
//   GET /             the page (page.cpp)
//   GET /metrics      the metrics in Prometheus text format
//   GET /api/tree     the supervision trees (views.cpp)
//   GET /api/processes[?limit=N]   the processes, up to N (default 1000)
//
// Everything runs in the process's turns, on a worker: a view reads the
// runtime without stopping it. At most kMaxConnections are open at once;
// a connection past that is closed at once.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>

#include "base/error.hpp"
#include "http.hpp"
#include "views.hpp"

using airs::fail;
using airs::failf;

namespace airs::osl {

const char* observer_page();  // page.cpp

namespace {

constexpr size_t kMaxConnections = 64;
constexpr size_t kDefaultLimit = 1000;

struct Conn {
  std::string bytes;      // the request head so far
  bool answered = false;  // its response is queued: close on SENT
};

struct Server {
  airs_socket listener = 0;
  std::unordered_map<airs_socket, Conn> conns;
};

// What airs_observer_open hands to init, on its own stack: init runs on
// the opening thread (airs_spawn), before it returns.
struct OpenArgs {
  airs_addr addr;
  airs_addr bound;
};

void close_conn(airs_runtime* rt, Server* s, airs_socket sock) {
  airs_socket_close(rt, sock);
  s->conns.erase(sock);
}

// The response to `req`: a route, or 404 / 405.
std::string answer(airs_runtime* rt, const Request& req) {
  if (req.method != "GET")
    return response(405, "text/plain", "only GET is served\n");
  if (req.path == "/")
    return response(200, "text/html; charset=utf-8", observer_page());
  if (req.path == "/metrics") {
    airs_status st;
    std::string text = metrics_text(rt, &st);
    if (st != AIRS_OK)
      return response(500, "text/plain", airs_last_error_message());
    return response(200, "text/plain; version=0.0.4", text);
  }
  if (req.path == "/api/tree")
    return response(200, "application/json", tree_json(rt));
  if (req.path == "/api/processes") {
    std::string limit = query_value(req.query, "limit");
    size_t n =
        limit.empty() ? kDefaultLimit : std::strtoul(limit.c_str(), 0, 10);
    return response(200, "application/json", processes_json(rt, n));
  }
  return response(404, "text/plain", "no such page\n");
}

// A connection's bytes arrived: answer once its head is complete.
void on_data(airs_runtime* rt, Server* s, airs_socket sock,
             const airs_msg* msg) {
  auto it = s->conns.find(sock);
  if (it == s->conns.end() || it->second.answered) return;
  Conn& c = it->second;
  std::string out;
  try {
    c.bytes.append(static_cast<const char*>(airs_msg_data(msg)),
                   airs_msg_size(msg));
    Request req;
    switch (parse_request(c.bytes, &req)) {
      case Parse::kMore: return;
      case Parse::kBad:
        out = response(400, "text/plain", "not an HTTP/1 request\n");
        break;
      case Parse::kTooLarge:
        out = response(431, "text/plain", "the request head is too long\n");
        break;
      case Parse::kDone: out = answer(rt, req); break;
    }
  } catch (const std::bad_alloc&) {
    close_conn(rt, s, sock);  // no memory to answer: the client sees EOF
    return;
  }
  c.answered = true;
  c.bytes.clear();
  c.bytes.shrink_to_fit();
  if (airs_socket_send(rt, sock, out.data(), out.size(), 1) != AIRS_OK)
    close_conn(rt, s, sock);
}

void on_accepted(airs_runtime* rt, Server* s, const airs_msg* msg) {
  airs_sock_accepted a;
  if (airs_msg_size(msg) < sizeof a) return;
  std::memcpy(&a, airs_msg_data(msg), sizeof a);
  if (s->conns.size() >= kMaxConnections) {
    airs_socket_close(rt, a.socket);
    return;
  }
  try {
    s->conns.emplace(a.socket, Conn{});
  } catch (const std::bad_alloc&) {
    airs_socket_close(rt, a.socket);
    return;
  }
  if (airs_socket_set_active(rt, a.socket, AIRS_ACTIVE_ALWAYS) != AIRS_OK)
    close_conn(rt, s, a.socket);
}

airs_status server_init(void* user_data, airs_ctx* ctx, void** state) {
  auto* args = static_cast<OpenArgs*>(user_data);
  airs_runtime* rt = airs_ctx_runtime(ctx);
  auto* s = new (std::nothrow) Server;
  if (!s) return fail(AIRS_ENOMEM, "out of memory");
  airs_socket_opts opts;
  airs_socket_opts_init(&opts);
  opts.active = AIRS_ACTIVE_ALWAYS;
  opts.backlog = 64;
  airs_status st =
      airs_tcp_listen(rt, airs_self(ctx), &args->addr, &opts, &s->listener);
  if (st == AIRS_OK)
    st = airs_socket_addr(rt, s->listener, &args->bound, nullptr);
  if (st != AIRS_OK) {
    delete s;
    return st;  // its message says why (the address in use, say)
  }
  airs_set_label(ctx, "observer endpoint");
  *state = s;
  return AIRS_OK;
}

airs_status server_receive(void* state, airs_ctx* ctx, const airs_msg* msg) {
  auto* s = static_cast<Server*>(state);
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_socket sock = airs_msg_correlation(msg);
  switch (airs_msg_type(msg)) {
    case AIRS_MSG_SOCK_ACCEPTED: on_accepted(rt, s, msg); break;
    case AIRS_MSG_SOCK_DATA: on_data(rt, s, sock, msg); break;
    case AIRS_MSG_SOCK_SENT:  // the answer is out: done with it
    case AIRS_MSG_SOCK_EOF:   // the client left first
      if (sock != s->listener) close_conn(rt, s, sock);
      break;
    case AIRS_MSG_SOCK_ERROR:  // closed by the runtime
      s->conns.erase(sock);
      if (sock == s->listener)
        return airs_exit(ctx, AIRS_EXIT_ERROR, AIRS_EOS,
                         "the observer's listening socket failed");
      break;
    default: break;  // ACCEPT_ERROR: the listener retries by itself
  }
  return AIRS_OK;
}

void server_terminate(void* state, airs_ctx*, const airs_reason*) {
  delete static_cast<Server*>(state);  // its sockets close with it
}

const airs_behaviour kServer = {.version = AIRS_BEHAVIOUR_VERSION,
                                .size = sizeof(airs_behaviour),
                                .init = server_init,
                                .receive = server_receive,
                                .terminate = server_terminate,
                                .health = nullptr,
                                .receive_batch = nullptr};

}  // namespace

}  // namespace airs::osl

extern "C" {

AIRS_API airs_status airs_observer_open(airs_runtime* rt, const char* addr,
                                        airs_pid* pid, airs_addr* bound) {
  if (pid) *pid = 0;
  if (!rt || !addr || !pid)
    return fail(AIRS_EINVAL, "airs_observer_open: rt, addr or pid is NULL");
  airs::osl::OpenArgs args{};
  if (airs_addr_parse(addr, &args.addr) != AIRS_OK)
    return failf(AIRS_EINVAL,
                 "airs_observer_open: '%s' is not a numeric address with a "
                 "port (\"127.0.0.1:8080\", \"[::1]:0\")",
                 addr);
  airs_pid p = 0;
  if (airs_whereis(rt, AIRS_OBSERVER_NAME, &p) == AIRS_OK)
    return failf(AIRS_EEXIST,
                 "airs_observer_open: an observer is open already ('%s')",
                 AIRS_OBSERVER_NAME);
  airs_status st =
      airs_spawn(rt, &airs::osl::kServer, &args, nullptr, nullptr, &p);
  if (st != AIRS_OK) return st;  // its message names the listen's failure
  if ((st = airs_register(rt, AIRS_OBSERVER_NAME, p)) != AIRS_OK) {
    airs_kill(rt, p);
    return failf(st, "airs_observer_open: an observer is open already ('%s')",
                 AIRS_OBSERVER_NAME);
  }
  *pid = p;
  if (bound) *bound = args.bound;
  return AIRS_OK;
}

}  // extern "C"
