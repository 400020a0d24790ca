#!/usr/bin/env python3
"""gen_corpus.py - writes the seed corpus of fuzz_capi into corpus/.

Each seed is a small program in the harness's input format (see the
comments of fuzz_capi.c: run_op for the top-level operations, run_script
for the scripts that actors run from their messages), written once for a
host-driven and once for a threaded runtime. Run it again after changing
the format; the output is committed.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Header: mode byte bits.
THREADED, MANUAL, TWO_WORKERS, NO_EVENTS, DL_HOOK, EV_HOOK, DRAIN = (
    1, 2, 4, 8, 16, 32, 128)

# Top-level operations (run_op: op % 26).
SPAWN, SEND, TIMER, EXITSIG, WAIT, POLL, REG, POOL, TOPIC, CALL = (
    0, 2, 5, 6, 7, 8, 9, 10, 11, 12)
SPEC_NEW, ADD_CHILD, SPEC_FREE, SUP, STATS, HOOKS, CONFIG, MISC = (
    13, 14, 16, 17, 20, 21, 22, 23)
NULLS, DRAINOP = 24, 25

# Script operations (run_script: op % 24), with flag bits in the op byte.
S_SEND, S_SPAWN, S_LINK, S_UNLINK, S_MON, S_DEMON, S_TRAP, S_EXIT = range(
    0, 8)
S_SEND, S_SPAWN = 0, 2
S_LINK, S_UNLINK, S_MON, S_DEMON, S_TRAP, S_EXIT, S_FAIL = 3, 4, 5, 6, 7, 8, 9
S_REQUEST, S_REPLY, S_TOPIC, S_REG, S_SPEC, S_SIGNAL, S_TIMER = (
    10, 11, 12, 13, 14, 15, 16)
S_INSIDE, S_POOL, S_MSG, S_STAT, S_STALE, S_SPAWN2, S_CALLIN = (
    17, 18, 19, 20, 21, 22, 23)


def opb(k, mod, hi80=False, x40=None, sub=None):
    """The first byte b with b % mod == k and the given flag bits."""
    for b in range(256):
        if b % mod != k or bool(b & 0x80) != hi80:
            continue
        if x40 is not None and bool(b & 0x40) != x40:
            continue
        if sub is not None and (b >> 5 & 3) != sub:
            continue
        return b
    raise ValueError((k, mod, hi80, x40, sub))


def sop(k, **kw):
    return opb(k, 24, **kw)


def top(k):
    return k  # no flag bits: k itself


def ud(init_op=0, term_op=0, free_health=0, flags=0):
    return [init_op, term_op, free_health, flags]


def spawn(init_op=0, term_op=0, free_health=0, flags=0):
    # sel 0: no opts, a user_data; behaviour byte 7: the full behaviour.
    return [SPAWN, 0, 7] + ud(init_op, term_op, free_health, flags)


def send_script(pid, script):
    # sel 0x20: airs_send with the data (type 1).
    assert len(script) < 48
    return [SEND, 0x20, pid, len(script)] + script


def sub_send(pid, script, to_self=False):
    return [sop(S_SEND, hi80=to_self), pid, len(script)] + script


def drain(n=7):
    return [DRAINOP, n]


def spec_new(i, strategy, intensity_idx=3, period_idx=4, extra=None):
    sel = 0
    tail = []
    if extra:
        sel, tail = extra
    return [SPEC_NEW, i, sel, strategy, intensity_idx, period_idx] + tail


def child(cid, restart=0, shutdown=3, sms=1, sel=0, more=(), beh=7,
          u=(0, 0, 0, 0)):
    out = [sel, cid, restart, shutdown, sms] + list(more)
    if sel & 32:
        out += [beh]  # a spec index
    else:
        out += [beh]
    if not sel & 128:
        out += list(u)
    return out


def add_child(i, c):
    return [ADD_CHILD, i] + c


def sup(opn, pid, rest=()):
    return [SUP, opn, pid] + list(rest)


SEEDS = {}


def seed(name):
    def deco(fn):
        SEEDS[name] = fn
        return fn
    return deco


@seed("spawn_send_exit")
def _():
    return (spawn() + spawn(7) +
            send_script(0, sub_send(1, [sop(S_EXIT), 3, 1, 0])) + drain() +
            [WAIT, 1, 1] + [EXITSIG, 2, 0, 3, 9, 0] + drain())


@seed("spawn_link_trap")
def _():
    # A child spawned with LINK and TRAP_EXIT, then the parent crashes.
    return (spawn() +
            send_script(0, [sop(S_SPAWN), 0x83, 7] + ud(0, 0, 0, 0) +
                        [sop(S_FAIL), 4]) + drain() + [STATS, 0] + drain())


@seed("monitor_demonitor")
def _():
    return (spawn() + spawn() +
            send_script(0, [sop(S_MON), 1, sop(S_LINK), 1,
                            sop(S_DEMON, hi80=True), sop(S_UNLINK), 1,
                            sop(S_MON), 1]) + drain() +
            [EXITSIG, 0, 1] + drain() + [MISC, 6])


@seed("registry_pools")
def _():
    return (spawn() + spawn() + [REG, 0, 0, 0, REG, 2, 0, REG, 0, 0, 1,
                                 REG, 1, 0, REG, 0, 6, 0] +
            [POOL, 0, 3, 0, POOL, 0, 3, 1, POOL, 2, 3, 0, POOL, 3, 3, 4] +
            send_script(1, [sop(S_REG, sub=0), 1, sop(S_POOL, sub=0), 3,
                            sop(S_POOL, sub=2), 3, 1]) + drain() +
            [EXITSIG, 0, 0] + drain() + [POOL, 3, 3, 4])


@seed("topics")
def _():
    return (spawn() + spawn() + [TOPIC, 0, 4, 0, TOPIC, 0, 4, 1] +
            [TOPIC, 2, 4, 0, 3, 9, 9, 9] +
            send_script(0, [sop(S_TOPIC, sub=2), 4, 2, sop(S_TOPIC, sub=1),
                            4]) + drain() + [TOPIC, 3, 4, 4] +
            [TOPIC, 0x22, 0, 1, 0])


@seed("call_reply")
def _():
    # airs_call with a script that replies.
    return (spawn() + [CALL, 0, 1, sop(S_REPLY), 0, 3] +
            [CALL, 0, 0, 7, 2] + drain())


@seed("request_reply")
def _():
    return (spawn() + spawn() +
            send_script(0, [sop(S_REQUEST), 1, sop(S_REPLY), 3, 1]) +
            drain() +
            send_script(0, [sop(S_REQUEST), 0, 1, 1]) + drain(7) +
            [POLL, 0x08, 5, POLL, 0x10, 0])


@seed("timers")
def _():
    return (spawn() + [TIMER, 4, 2, 1, 2, 2, 0, 0] +
            [TIMER, 0, 0, 0, 0] + [TIMER, 1, 0] + [TIMER, 3] + [0] * 8 +
            [POLL, 0x18, 3] + send_script(0, [sop(S_TIMER, hi80=True), 1,
                                              sop(S_TIMER, x40=True), 0, 0]) +
            drain() + [POLL, 0x1c, 7])


def sup_seed(strategy, threaded_extra=()):
    s = spec_new(0, strategy)
    s += add_child(0, child(0, restart=0))
    s += add_child(0, child(1, restart=1, sel=4, more=[0]))
    s += add_child(0, child(2, restart=2, u=(0, 0, 0, 4)))
    s += sup(0, 0, [0])  # start spec 0
    s += sup(7, 0, [6]) + sup(8, 0)
    s += [EXITSIG, 0, 1] + drain()  # kill the first child (pid slot 1)
    s += sup(7, 0, [6])
    s += sup(3, 0, [0]) + sup(5, 0, [0]) + sup(3, 0, [1]) + sup(6, 0, [1])
    s += sup(1, 0, child(3, restart=0)) + sup(8, 0)
    s += send_script(2, [sop(S_FAIL), 1]) + drain()
    s += [EXITSIG, 1, 0] + drain()
    return s


for _st, _name in enumerate(["one_for_one", "one_for_all", "rest_for_one"]):
    SEEDS["sup_" + _name] = (lambda st: lambda: sup_seed(st))(_st)


@seed("sup_simple_one_for_one")
def _():
    s = spec_new(0, 3)
    s += add_child(0, child(0, restart=1))
    s += sup(0, 0, [0])
    s += sup(2, 0, [0] + ud()) + sup(2, 0, [0] + ud(0, 0, 0, 4))
    s += sup(2, 0, [1])
    s += sup(7, 0, [6]) + sup(8, 0)
    s += sup(4, 0, [1]) + sup(3, 0, [0]) + sup(5, 0, [0])
    s += send_script(2, []) + [SEND, 0x20, 2, 0] + drain()
    s += [EXITSIG, 2, 0] + drain()
    return s


@seed("sup_nested")
def _():
    s = spec_new(0, 0) + add_child(0, child(0))
    s += spec_new(1, 1) + add_child(1, child(3, sel=32, shutdown=2, beh=0))
    s += add_child(1, child(1))
    s += sup(0, 0, [1]) + sup(7, 0, [6])
    s += [EXITSIG, 0, 1] + drain() + sup(7, 0, [6])
    s += [EXITSIG, 1, 0] + drain() + [SPEC_FREE, 0, SPEC_FREE, 1]
    return s


@seed("sup_invalid_specs")
def _():
    s = spec_new(0, 9) + spec_new(0, 0, 0, 0)  # bad strategy, period 0
    s += spec_new(1, 0, extra=(8 | 16, [0, 3]))  # bad version, size
    s += spec_new(2, 2, extra=(2 | 4, [9, 0, 0, 0]))
    s += spec_new(3, 0, extra=(32, []))  # NULL flags: defaults
    s += add_child(3, child(4))  # empty id
    s += add_child(3, child(5))  # too long id
    s += add_child(3, child(0, restart=7, shutdown=9, sms=3))
    s += add_child(3, child(0, sel=2, more=[1]))  # significant, permanent
    s += add_child(3, child(0, sel=8, more=[1, 0]))  # opts with LINK
    s += add_child(3, child(0, sel=16))  # bad version
    s += add_child(3, child(0, beh=3))  # bad behaviour
    s += add_child(3, child(1, sel=32 | 64, beh=3))  # both
    s += add_child(3, child(2, sel=32, beh=3))  # itself
    s += add_child(3, child(0)) + add_child(3, child(0))  # EEXIST
    s += sup(0, 0, [3]) + add_child(3, child(1))  # frozen
    s += sup(0, 0, [5]) + sup(1, 0, child(0))
    return s


@seed("sup_auto_shutdown")
def _():
    s = spec_new(0, 0, extra=(2, [1]))
    s += add_child(0, child(0, restart=1, sel=2, more=[1]))
    s += add_child(0, child(1, restart=0))
    s += sup(0, 0, [0])
    s += send_script(1, [sop(S_EXIT), 0, 0, 0]) + drain()
    s += sup(7, 0, [6])
    return s


@seed("sup_backoff_health")
def _():
    s = spec_new(0, 0, 4, 4, extra=(1 | 4, [1, 2, 1, 1, 1]))
    s += add_child(0, child(0, u=(0, 0, 2 << 3, 0)))
    s += add_child(0, child(1, u=(0, 0, 1 << 3, 0)))
    s += sup(0, 0, [0])
    s += [EXITSIG, 0, 1] + drain() + [WAIT, 0, 7] + drain()
    s += sup(7, 0, [6]) + [WAIT, 0, 7] + drain()
    return s


@seed("sup_from_callback")
def _():
    s = spec_new(0, 0) + add_child(0, child(0))
    s += sup(0, 5, [0])  # start once: the spec is shared with callbacks
    s += spawn()
    # start (op % 9 == 0) and link, which_children, start_child.
    s += send_script(1, [sop(S_SPEC), opb(0, 9, hi80=True), 0, 0,
                         sop(S_SPEC), 1, 2, 3, sop(S_SPEC), 4, 2, 0, 0, 0, 0,
                         0, 0, 1])
    s += drain() + [EXITSIG, 0, 1] + drain()
    return s


@seed("hooks")
def _():
    s = [HOOKS, 1, 2, HOOKS, 0, 3] + spawn()
    s += [SEND, 0x20, 0x40, 0]  # to pid 0: dead letter
    s += spec_new(0, 0) + add_child(0, child(0)) + sup(0, 0, [0])
    s += [EXITSIG, 0, 1] + drain() + [HOOKS, 0, 1] + [EXITSIG, 0, 1]
    s += drain() + [HOOKS, 0, 6] + [EXITSIG, 0, 1] + drain()
    s += [TOPIC, 2, 1, 0, 1, 5]
    return s


@seed("mailbox_full")
def _():
    s = spawn(0, 0, 0, 0)
    s += [SPAWN, 1, 7, 0, 1, 1] + ud()
    s += [SEND, 0x20, 1, 0] * 3 + [SEND, 0x20, 0, 1, 5] * 3
    s += [SPAWN, 1, 7, 0, 1, 2] + ud() + [SEND, 0x20, 2, 0] * 3
    s += [WAIT, 1, 0, WAIT, 0, 0x80] + drain()
    return s


@seed("inside_checks")
def _():
    return (spawn() + send_script(0, [sop(S_INSIDE), 0, sop(S_INSIDE), 1,
                                      sop(S_INSIDE), 2, sop(S_INSIDE), 3,
                                      sop(S_INSIDE), 4, sop(S_STALE),
                                      sop(S_STAT, hi80=True), 0]) +
            drain() + [MISC, 6, MISC, 7])


@seed("user_data_free_calls_in")
def _():
    return (spawn(0, 0, 1, 0) + spawn(0, 1, 4, 0) + spawn(3, 0, 2, 0) +
            spawn(2, 0, 5, 0) + spawn(4) + spawn(5, 0, 7) + spawn(6) +
            spawn(7) + spawn(8) + spawn(9) + spawn(10) + spawn(11) +
            spawn(12) + spawn(13) + spawn(14) + spawn(15) + drain() + [EXITSIG, 1, 0] + drain())


@seed("config_misc_nulls")
def _():
    s = [CONFIG, 3, 1, 9, 0, 4, 250, 3, 1, 1] + [0] * 4
    s += [CONFIG, 1, 0, 0, 0, 1] + ud()
    s += [MISC, 0, 20, MISC, 1, MISC, 2, 1, MISC, 3, 4, 1, 2, 3, 4]
    s += [MISC, 0x83, 2, 7, 7, MISC, 4, MISC, 5, MISC, 7]
    for i in range(20):
        s += [NULLS, i]
    return s


@seed("script_messages")
def _():
    return (spawn() + spawn() +
            send_script(0, [sop(S_MSG), 1, 1, 3, sop(S_MSG, hi80=True), 1, 0,
                            0, sop(S_SIGNAL, sub=1), 1,
                            sop(S_SPAWN2, hi80=True)] + ud() + [7] +
                        [sop(S_SPAWN2)] + ud() + [sop(S_CALLIN), 0, 1]) +
            drain() + [SEND, 0x00, 0, 2, 1, 2, SEND, 0x81, 0, 1, 0, 1, 5] +
            [SEND, 0x02, 1, 3, 1, 2, 3] + drain())


def header(mode, c1=0, c2=20):
    return [mode, c1, c2]


def main():
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.unlink(os.path.join(out, f))
    n = 0
    for name, fn in sorted(SEEDS.items()):
        body = fn()
        assert all(0 <= b < 256 for b in body), name
        for tag, mode in (("host", DRAIN | DL_HOOK), ("threads",
                                                      THREADED | TWO_WORKERS)):
            data = bytes(header(mode) + body)
            with open(os.path.join(out, f"{name}-{tag}"), "wb") as f:
                f.write(data)
            n += 1
    # A few with the manual clock, events off, or a full header.
    extra = {
        "manual_clock-host": header(MANUAL | DRAIN) + SEEDS["timers"](),
        "manual_clock-threads": header(MANUAL | THREADED) + SEEDS["timers"](),
        "no_events-host": header(NO_EVENTS | EV_HOOK) + SEEDS["hooks"](),
        "small_limits-host": header(DRAIN, 0x61, 1) +
        SEEDS["user_data_free_calls_in"](),
        "empty": [],
    }
    for name, body in extra.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(body))
        n += 1
    print(f"{n} seeds in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
