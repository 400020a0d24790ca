// views.cpp - the JSON views and the metrics (views.hpp).
#include "views.hpp"

#include <cinttypes>
#include <cstdio>
#include <vector>

namespace airs::osl {

namespace {

// A JSON string, quoted and escaped.
void put_string(std::string& out, const char* s) {
  out += '"';
  for (; *s; s++) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void put_pid(std::string& out, airs_pid pid) {
  char text[40];
  airs_pid_format(pid, text, sizeof text);
  put_string(out, text);
}

void put_number(std::string& out, uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "%" PRIu64, v);
  out += text;
}

const char* state_name(int32_t s) {
  switch (s) {
    case AIRS_PSTATE_WAITING: return "waiting";
    case AIRS_PSTATE_RUNNABLE: return "runnable";
    case AIRS_PSTATE_EXITING: return "exiting";
    default: return "gone";
  }
}

const char* child_state_name(int32_t s) {
  switch (s) {
    case AIRS_CHILD_RUNNING: return "running";
    case AIRS_CHILD_RESTARTING: return "restarting";
    case AIRS_CHILD_STOPPED: return "stopped";
    default: return "other";
  }
}

// The info of `pid`, or one with state 0 ("gone") if it ended.
airs_process_info info_of(airs_runtime* rt, airs_pid pid) {
  airs_process_info info{};
  info.version = AIRS_PROCESS_INFO_VERSION;
  info.size = sizeof info;
  if (!pid || airs_process_info_get(rt, pid, &info) != AIRS_OK) {
    info = airs_process_info{};
    info.pid = pid;
  }
  return info;
}

// The fields every view shares.
void put_info(std::string& out, const airs_process_info& info) {
  out += "\"name\":";
  put_string(out, info.name);
  out += ",\"label\":";
  put_string(out, info.label);
  out += ",\"state\":";
  put_string(out, state_name(info.state));
  out += ",\"mailbox\":";
  put_number(out, info.mailbox_depth);
  out += ",\"handled\":";
  put_number(out, info.messages_handled);
  out += ",\"memory\":";
  put_number(out, info.memory_bytes);
}

struct TreeOut {
  airs_runtime* rt;
  std::string* out;
  bool first = true;
  bool failed = false;
};

int put_node(void* user_data, const airs_tree_node* node) {
  auto* t = static_cast<TreeOut*>(user_data);
  try {
    std::string& out = *t->out;
    if (!t->first) out += ',';
    t->first = false;
    out += "{\"pid\":";
    put_pid(out, node->pid);
    out += ",\"supervisor\":";
    put_pid(out, node->supervisor);
    out += ",\"depth\":";
    put_number(out, node->depth);
    out += ",\"id\":";
    put_string(out, node->id);
    out += ",\"type\":";
    put_string(out,
               node->type == AIRS_CHILD_SUPERVISOR ? "supervisor" : "worker");
    out += ",\"child_state\":";
    put_string(out, child_state_name(node->state));
    out += ',';
    put_info(out, info_of(t->rt, node->pid));
    out += '}';
  } catch (const std::bad_alloc&) {
    t->failed = true;
    return 1;
  }
  return 0;
}

}  // namespace

std::string tree_json(airs_runtime* rt) {
  std::string out = "{\"trees\":[";
  TreeOut t{rt, &out};
  airs_supervision_walk(rt, 0, put_node, &t);
  if (t.failed) throw std::bad_alloc();
  out += "]}";
  return out;
}

std::string processes_json(airs_runtime* rt, size_t limit) {
  std::vector<airs_pid> pids;
  airs_pid page[256];
  uint64_t cursor = 0, next = 0;
  do {
    size_t n = 0;
    if (airs_process_list(rt, cursor, page, 256, &n, &next) != AIRS_OK) break;
    pids.insert(pids.end(), page, page + n);
    cursor = next;
  } while (next != 0);
  std::string out = "{\"count\":";
  put_number(out, pids.size());
  out += ",\"processes\":[";
  for (size_t i = 0; i < pids.size() && i < limit; i++) {
    if (i) out += ',';
    out += "{\"pid\":";
    put_pid(out, pids[i]);
    out += ',';
    put_info(out, info_of(rt, pids[i]));
    out += '}';
  }
  out += "]}";
  return out;
}

std::string metrics_text(airs_runtime* rt, airs_status* st) {
  size_t len = 0;
  std::string text;
  *st = airs_metrics_write(rt, nullptr, 0, &len);
  // The numbers may grow between the size and the text: room to spare,
  // and a second try.
  for (int tries = 0; tries < 3 && *st == AIRS_EFULL; tries++) {
    text.assign(len + 256, '\0');
    *st = airs_metrics_write(rt, text.data(), text.size(), &len);
  }
  text.resize(*st == AIRS_OK ? len : 0);
  return text;
}

}  // namespace airs::osl
