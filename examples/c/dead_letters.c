/*
 * dead_letters - the dead-letter hook and the runtime's counters.
 *
 * Every message the runtime cannot deliver goes to the dead-letter hook
 * with its reason, and counts in airs_runtime_stats. The demo makes one
 * of each kind a single runtime can have: a send to a dead pid, a full
 * mailbox that drops the newest, messages still queued when their
 * receiver is killed, a timer for a process gone, a publish nobody
 * hears. It runs host-driven (no worker threads) on a manual clock, so
 * nothing runs until main polls: the counts are exact, and checked.
 *
 * Run: ./build/examples/dead_letters
 */
#include <airs/airs.h>

#include <stdio.h>
#include <string.h>

static const char* reason_name[] = {"?",          "MAILBOX_FULL",   "EXITED",
                                    "TIMER",      "NO_SUBSCRIBERS", "NOPROC",
                                    "LATE_REPLY", "NOCONNECTION"};
static int by_reason[8];

/* Runs on the thread that found out; host-driven, that is always main. */
static void on_dead_letter(void* user_data, airs_pid to, const airs_msg* msg,
                           airs_dead_letter_reason reason) {
  (void)user_data, (void)to;
  if (reason < 1 || reason > 7) return;
  by_reason[reason]++;
  printf("  dead letter: %-14s message type %llu\n", reason_name[reason],
         (unsigned long long)airs_msg_type(msg));
}

static airs_status quiet_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  (void)state, (void)ctx, (void)msg;
  return AIRS_OK;
}

static void run_all(airs_runtime* rt) {
  uint32_t ran;
  do {
    if (airs_runtime_poll(rt, 100, &ran) != AIRS_OK) return;
  } while (ran > 0); /* until nothing is left to run */
}

#define CHECK(call)                                                      \
  do {                                                                   \
    airs_status st_ = (call);                                            \
    if (st_ != AIRS_OK) {                                                \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, airs_strerror(st_), \
              airs_last_error_message());                                \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(void) {
  airs_config* cfg;
  airs_runtime* rt;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, 0)); /* host-driven */
  CHECK(airs_config_set(cfg, AIRS_CFG_MANUAL_CLOCK, 1));
  CHECK(airs_runtime_new(cfg, &rt));
  airs_config_free(cfg);
  CHECK(airs_set_dead_letter_hook(rt, on_dead_letter, NULL));

  airs_behaviour b = {.version = AIRS_BEHAVIOUR_VERSION,
                      .size = sizeof b,
                      .receive = quiet_receive};
  airs_spawn_opts small; /* a mailbox of 2 that drops what does not fit */
  airs_spawn_opts_init(rt, &small);
  small.mailbox_capacity = 2;
  small.mailbox_policy = AIRS_MAILBOX_DROP_NEWEST;
  airs_pid sink, victim, doomed;
  CHECK(airs_spawn(rt, &b, NULL, NULL, &small, &sink));
  CHECK(airs_spawn(rt, &b, NULL, NULL, NULL, &victim));
  CHECK(airs_spawn(rt, &b, NULL, NULL, NULL, &doomed));

  printf("5 sends to a mailbox of 2 (DROP_NEWEST):\n");
  for (int i = 0; i < 5; i++) CHECK(airs_send(rt, sink, 1, NULL, 0));

  printf("3 sends, then a kill, which jumps ahead of them:\n");
  for (int i = 0; i < 3; i++) CHECK(airs_send(rt, victim, 2, NULL, 0));
  CHECK(airs_kill(rt, victim));
  run_all(rt);

  printf("a timer for a process that ends before it fires:\n");
  airs_msg* m;
  CHECK(airs_msg_new(3, NULL, 0, &m));
  CHECK(airs_send_after(rt, doomed, 10, m, NULL));
  CHECK(airs_kill(rt, doomed));
  run_all(rt);
  CHECK(airs_runtime_advance_time(rt, 10));
  run_all(rt);

  printf("a send to a dead pid, a publish nobody hears:\n");
  airs_status noproc = airs_send(rt, victim, 4, NULL, 0);
  airs_payload* p;
  size_t reached;
  CHECK(airs_payload_new("tick", 4, &p));
  CHECK(airs_publish(rt, "nobody", 5, p, &reached));
  airs_payload_release(p);
  run_all(rt);

  airs_runtime_stats s;
  memset(&s, 0, sizeof s);
  s.version = AIRS_RUNTIME_STATS_VERSION; /* what the caller knows of */
  s.size = sizeof s;
  CHECK(airs_runtime_stats_get(rt, &s));
  airs_runtime_free(rt);
  printf(
      "stats: %llu alive, %llu spawned, %llu exited; messages %llu "
      "sent, %llu delivered, %llu dropped; %llu dead letters\n",
      (unsigned long long)s.processes_alive,
      (unsigned long long)s.processes_spawned,
      (unsigned long long)s.processes_exited,
      (unsigned long long)s.messages_sent,
      (unsigned long long)s.messages_delivered,
      (unsigned long long)s.messages_dropped,
      (unsigned long long)s.dead_letters);

  int ok = by_reason[AIRS_DEAD_LETTER_MAILBOX_FULL] == 3 &&
           by_reason[AIRS_DEAD_LETTER_EXITED] == 3 &&
           by_reason[AIRS_DEAD_LETTER_TIMER] == 1 &&
           by_reason[AIRS_DEAD_LETTER_NOPROC] == 1 &&
           by_reason[AIRS_DEAD_LETTER_NO_SUBSCRIBERS] == 1 &&
           noproc == AIRS_ENOPROC && reached == 0 && s.dead_letters == 9 &&
           s.processes_spawned == 3 && s.processes_exited == 2 &&
           s.processes_alive == 1 && s.messages_sent == 5 &&
           s.messages_delivered == 2 && s.messages_dropped == 3;
  printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
