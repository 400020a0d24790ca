/*
 * osl_integration - the system actors (osl.h) under their rest_for_one
 * supervisor, driven by one C++ actor through requests: files, an OS
 * process fed to EOF, a TCP connection over loopback, then a crash of the
 * file actor (examples/c/osl_integration.c in C, osl_integration.py in
 * Python).
 *
 * airs.hpp has no wrappers for the system actors: their requests and
 * replies are C structs of fs.h, proc.h and osl.h. The actor sends them
 * with the C helpers (c_ctx() gives the C context of its handler) and
 * reads what comes back in on_unexpected, where messages of no C++ type
 * arrive. Each reply starts the next step; what it learns goes to main
 * through a promise. Every step and supervisor event is printed; it
 * exits 1 if a step fails.
 */
#include <airs/airs.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace {

struct go {
  static constexpr std::uint64_t airs_tag = 1;
};

// What the owner found, for main.
struct outcome {
  std::string wc_output;
  int wc_status = -1;
  bool connected = false, accepted = false;
};

// Throws what a C call returned, if it failed: in a handler that ends
// the actor with an error exit (let it crash), and main sees no outcome.
void check(airs_status st, const char* what) {
  if (st != AIRS_OK)
    throw airs::error(st, std::string(what) + ": " + airs_strerror(st) + " (" +
                              airs_last_error_message() + ")");
}

// Prints a failed reply and says whether it failed.
bool failed(const char* what, const airs_msg* reply) {
  airs_osl_result r;
  if (airs_osl_result_get(reply, &r) == AIRS_OK && r.status == AIRS_OK)
    return false;
  std::fprintf(stderr, "osl_integration: %s: %s\n", what, r.text);
  return true;
}

struct owner : airs::actor<owner, go> {
  owner(std::string dir, std::promise<outcome>* done)
      : dir_(std::move(dir)), path_(dir_ + "/hello.txt"), done_(done) {}

  void on(const go&) { fs(AIRS_MSG_FS_WRITE, path_, "hello, osl\n"); }

  void on_unexpected(const airs::envelope& e) {
    const airs_msg* m = e.c_msg();
    switch (airs_msg_type(m)) {
      case AIRS_MSG_FS_REPLY(AIRS_MSG_FS_WRITE):
        if (failed("write", m)) return finish();
        std::printf("  fs: wrote 11 bytes to %s\n", path_.c_str());
        return fs(AIRS_MSG_FS_LIST, dir_, nullptr);
      case AIRS_MSG_FS_REPLY(AIRS_MSG_FS_LIST): return listed(m);
      case AIRS_MSG_PROC_SPAWN_REPLY: return spawned(m);
      case AIRS_MSG_PROC_STDOUT:
        out_.wc_output.append(static_cast<const char*>(airs_msg_data(m)),
                              airs_msg_size(m));
        return;
      case AIRS_MSG_PROC_EXIT: return process_ended(m);
      case AIRS_MSG_NET_REPLY: return net_replied(m);
      case AIRS_MSG_SOCK_ACCEPTED:
        std::printf("  net: the listener accepted a connection\n");
        out_.accepted = true;
        return maybe_finish();
      case AIRS_MSG_SOCK_CONNECTED:
        std::printf("  net: connected (socket %llu)\n",
                    static_cast<unsigned long long>(airs_msg_correlation(m)));
        out_.connected = true;
        return maybe_finish();
      default: return;  // stdin write replies, timeouts: nothing to do
    }
  }

 private:
  void fs(std::uint64_t type, const std::string& path, const char* data) {
    airs_fs_req req;
    airs_fs_req_init(&req);
    req.type = type;
    req.path = path.c_str();
    req.data = data;
    req.data_size = data ? std::strlen(data) : 0;
    std::uint64_t corr;
    check(airs_fs_request(c_ctx(), &req, 5000, &corr), "airs_fs_request");
  }

  void listed(const airs_msg* m) {
    if (failed("list", m)) return finish();
    std::printf("  fs: %s holds:", dir_.c_str());
    std::size_t cursor = 0;
    const char* name;
    while (airs_fs_reply_list_next(m, &cursor, &name) == AIRS_OK)
      std::printf(" %s", name);
    std::printf("\n");
    static const char* const argv[] = {"wc", "-c", nullptr};
    airs_proc_spawn s;
    airs_proc_spawn_init(&s);
    s.path = "wc";
    s.argv = argv;
    s.flags = AIRS_PROC_STDIN_PIPE;
    std::uint64_t corr;
    check(airs_proc_spawn_request(c_ctx(), &s, 5000, &corr),
          "airs_proc_spawn_request");
  }

  void spawned(const airs_msg* m) {
    airs_proc_spawned child;
    if (failed("spawn", m) || airs_proc_spawned_get(m, &child) != AIRS_OK)
      return finish();
    std::printf("  proc: started wc -c, os pid %lld\n",
                static_cast<long long>(child.os_pid));
    // Its stdin: some bytes, then EOF (requests run in order at the port).
    airs_msg* req = nullptr;
    std::uint64_t corr;
    check(airs_proc_req_write("hello, osl\n", 11, &req), "stdin write");
    check(airs_request(c_ctx(), child.port, req, 5000, &corr), "request");
    check(airs_proc_req_close_stdin(&req), "stdin close");
    check(airs_request(c_ctx(), child.port, req, 5000, &corr), "request");
    std::printf("  proc: wrote 11 bytes to its stdin, then closed it\n");
  }

  void process_ended(const airs_msg* m) {
    airs_proc_exit ex;
    airs_proc_exit_get(m, &ex);
    out_.wc_status = ex.code;
    std::printf("  proc: wc printed %s and exited with status %d\n",
                out_.wc_output.substr(0, out_.wc_output.find('\n')).c_str(),
                ex.code);
    airs_net_req req;
    airs_net_req_init(&req, AIRS_MSG_NET_LISTEN);
    airs_addr_parse("127.0.0.1:0", &req.addr);
    req.has_opts = 1;
    airs_socket_opts_init(&req.opts);
    req.opts.active = 1;
    std::uint64_t corr;
    check(airs_net_request(c_ctx(), &req, 5000, &corr), "airs_net_request");
  }

  void net_replied(const airs_msg* m) {
    airs_net_reply out;
    if (failed("network", m) || airs_net_reply_get(m, &out) != AIRS_OK)
      return finish();
    if (listening_) return;  // the connect's reply: CONNECTED follows
    listening_ = true;
    char addr[64];
    airs_addr_format(&out.local, addr, sizeof addr);
    std::printf("  net: listening on %s\n", addr);
    airs_net_req req;
    airs_net_req_init(&req, AIRS_MSG_NET_CONNECT);
    req.addr = out.local;
    req.timeout_ms = 2000;
    std::uint64_t corr;
    check(airs_net_request(c_ctx(), &req, 5000, &corr), "airs_net_request");
  }

  void maybe_finish() {
    if (out_.connected && out_.accepted) finish();
  }

  void finish() {
    if (done_ != nullptr) done_->set_value(out_);
    done_ = nullptr;
  }

  std::string dir_, path_;
  std::promise<outcome>* done_;
  outcome out_;
  bool listening_ = false;
};

}  // namespace

int main() {
  char dir[] = "/tmp/airs-osl-XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  int bad = 0;
  // Before the runtime: its event hook uses them until it is freed.
  int restarts = 0;
  std::mutex mu;
  try {
    airs::runtime rt;
    rt.set_event_hook([&](const airs_event& e) {
      if (e.kind == AIRS_EVENT_CHILD_RESTARTED) {
        std::printf("  supervisor: %s restarted\n", e.id);
        std::lock_guard<std::mutex> lock(mu);
        restarts++;
      } else if (e.kind == AIRS_EVENT_CHILD_EXITED) {
        std::printf("  supervisor: %s ended (%s)\n", e.id,
                    airs_reason_text(e.reason));
      }
    });
    airs_pid sup = 0;
    check(airs_osl_start(rt.c_runtime(), nullptr, &sup), "airs_osl_start");
    std::printf("OSL supervisor started (rest_for_one: fs, proc, net)\n");

    std::printf("1-3. files, an OS process, a TCP connection\n");
    std::promise<outcome> done;
    auto result = done.get_future();
    rt.send(rt.spawn<owner>(std::string(dir), &done), go{});
    if (result.wait_for(std::chrono::seconds(10)) !=
        std::future_status::ready) {
      std::fprintf(stderr, "osl_integration: the steps timed out\n");
      return 1;
    }
    outcome o = result.get();
    bad |= std::atoi(o.wc_output.c_str()) != 11 || o.wc_status != 0 ||
           !o.connected || !o.accepted;

    std::printf("4. the file actor crashes\n");
    airs_pid fs_pid = 0;
    airs_whereis(rt.c_runtime(), AIRS_OSL_FS_NAME, &fs_pid);
    rt.kill(fs_pid);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (restarts == 3) break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "osl_integration: not all restarted\n");
        bad = 1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    airs_pid again = 0;
    airs_whereis(rt.c_runtime(), AIRS_OSL_FS_NAME, &again);
    std::printf("  %s is a new process: %s\n", AIRS_OSL_FS_NAME,
                again != 0 && again != fs_pid ? "yes" : "no");
    bad |= again == 0 || again == fs_pid;
    rt.set_event_hook(nullptr);
  } catch (const airs::error& e) {
    std::fprintf(stderr, "osl_integration: %s\n", e.what());
    bad = 1;
  }
  std::string cleanup = std::string(dir) + "/hello.txt";
  std::remove(cleanup.c_str());
  std::remove(dir);
  std::printf(bad ? "FAILED\n" : "done\n");
  return bad;
}
