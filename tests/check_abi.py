#!/usr/bin/env python3
"""The ABI of libairs.so against the recorded baseline of the release
(abi/libairs.abi), with abidw and abidiff from Debian's abigail-tools.

    check_abi.py LIB              check LIB against the baseline
    check_abi.py --update LIB     write the baseline from LIB (a release)

The policy (abi/README.md says it for people). It fails on:
  - what abidiff calls incompatible (exit bit 8,
    ABIDIFF_ABI_INCOMPATIBLE_CHANGE): a function or variable of the
    release is gone;
  - an exported function whose return or parameter types changed;
  - a public struct (one of include/airs/*.h) whose members moved, changed
    type, went, or that grew, unless it is versioned (it starts with
    `version` and `size`, which the caller sets: the library reads only
    `size` bytes and writes only what fits) and grew at its end only;
  - a public enum whose enumerators changed value or went.
It allows new functions, new enumerators, and versioned structs growing at
their end.

Why not abidiff's exit bit 4 (ABIDIFF_ABI_CHANGE) for the layouts:
libabigail 2.2 sets it when airs_spawn_opts grows at its end (allowed
here), does not set it when airs_behaviour grows (an internal struct
embeds it, and the report of that struct is suppressed as not public), and
its `has_data_member_inserted_at = end` suppression also hides a reordering
of members. So the layouts are compared here, on abidw's description of
both libraries; abidiff's report is printed for the log.

Then it proves the policy on the baseline itself, with edited copies of
it as the "new" library: a versioned struct grown at its end passes;
members moved, a struct without a size field grown, an enumerator changed
and a removed function each fail."""
import copy
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASELINE = os.path.join(ROOT, "abi", "libairs.abi")
SUPPRESSIONS = os.path.join(ROOT, "abi", "libairs.suppr")
PUBLIC = re.compile(r"(^|/)include/airs/[a-z_]+\.h$")
INCOMPATIBLE = 8

passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {what}")
        if detail:
            print(detail.rstrip())
    return ok


def abidw(lib, out):
    """abidw as the baseline is written: no paths of this machine."""
    subprocess.run(["abidw", "--no-corpus-path", "--no-comp-dir-path",
                    "--out-file", out, lib], check=True)


def abidiff(old, new):
    """abidiff of the public interface; (exit status, report)."""
    r = subprocess.run(["abidiff", "--no-added-syms", "--suppressions",
                        SUPPRESSIONS, old, new],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


class Abi:
    """What the policy compares, read from an abixml file."""

    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.types = {}
        for e in root.iter():
            if e.get("id") and e.tag != "subrange":
                # a declaration-only twin must not hide the definition
                if e.get("id") not in self.types or \
                        e.get("is-declaration-only") != "yes":
                    self.types[e.get("id")] = e
        self.symbols = {e.get("name") for e in root.iter("elf-symbol")
                        if e.get("is-defined") == "yes"}
        self.functions = {}
        for f in root.iter("function-decl"):
            sym = f.get("elf-symbol-id")
            if sym and sym.startswith("airs_") and sym not in self.functions:
                params = [self.name(p.get("type-id"))
                          for p in f.findall("parameter")]
                ret = self.name(f.find("return").get("type-id"))
                self.functions[sym] = f"{ret} {sym}({', '.join(params)})"
        self.structs, self.enums = {}, {}
        for e in root.iter():
            public = PUBLIC.search(e.get("filepath", ""))
            if not public or not (e.get("name") or "").startswith("airs_"):
                continue
            if e.tag == "class-decl" and e.get("is-declaration-only") != "yes":
                self.structs[e.get("name")] = self.struct(e)
            elif e.tag == "enum-decl":
                self.enums[e.get("name")] = {
                    n.get("name"): n.get("value")
                    for n in e.findall("enumerator")}

    def name(self, tid, depth=0):
        e = self.types.get(tid)
        if e is None or depth > 20:
            return "void" if tid == "type-id-void" or e is None else "..."
        sub = lambda: self.name(e.get("type-id"), depth + 1)  # noqa: E731
        if e.tag == "pointer-type-def":
            return sub() + "*"
        if e.tag == "reference-type-def":
            return sub() + "&"
        if e.tag == "qualified-type-def":
            return ("const " if e.get("const") == "yes" else "") + \
                ("volatile " if e.get("volatile") == "yes" else "") + sub()
        if e.tag == "array-type-def":
            dims = "".join(f"[{s.get('length')}]"
                           for s in e.findall("subrange"))
            return sub() + dims
        if e.tag == "function-type":
            params = ", ".join(self.name(p.get("type-id"), depth + 1)
                               for p in e.findall("parameter"))
            ret = self.name(e.find("return").get("type-id"), depth + 1)
            return f"{ret}({params})"
        return e.get("name") or e.tag

    def struct(self, e):
        members = []
        for m in e.findall("data-member"):
            v = m.find("var-decl")
            members.append((v.get("name"), int(m.get("layout-offset-in-bits")),
                            self.name(v.get("type-id"))))
        return int(e.get("size-in-bits", 0)), members


def versioned(members):
    return [m[0] for m in members[:2]] == ["version", "size"]


def compare(old, new):
    """The policy's verdicts: a list of what is not allowed."""
    bad = []
    for sym in sorted(old.symbols - new.symbols):
        bad.append(f"gone: {sym}")
    for sym, sig in sorted(old.functions.items()):
        if sym in new.functions and new.functions[sym] != sig:
            bad.append(f"signature: {sig} -> {new.functions[sym]}")
    for name, (size, members) in sorted(old.structs.items()):
        if name not in new.structs:
            continue  # a struct no longer described: its functions tell
        nsize, nmembers = new.structs[name]
        if nmembers[:len(members)] != members:
            bad.append(f"struct {name}: members {members} -> {nmembers}")
            continue
        grown = nmembers[len(members):]
        if nsize == size and not grown:
            continue
        if not versioned(members):
            bad.append(f"struct {name} (no size field) grew: {size} -> "
                       f"{nsize} bits, {grown}")
        elif nsize < size or any(off < size for _, off, _ in grown):
            bad.append(f"struct {name}: {size} -> {nsize} bits, {grown}")
    for name, values in sorted(old.enums.items()):
        nvalues = new.enums.get(name, values)
        for k, v in values.items():
            if nvalues.get(k) != v:
                bad.append(f"enum {name}: {k} = {v} -> {nvalues.get(k)}")
    return bad


def edited(tree, out, edit):
    """Writes a copy of the baseline, changed by edit(root)."""
    t = copy.deepcopy(tree)
    edit(t.getroot())
    t.write(out, encoding="unicode")
    return out


def struct_decls(root, name):
    found = [c for c in root.iter("class-decl") if c.get("name") == name
             and c.get("is-declaration-only") != "yes"]
    if not found:
        raise SystemExit(f"{name} is not in the baseline")
    return found


def grow_at_end(name):
    """A copy of the last member, appended after it (as a new callback slot
    after the last callback would be)."""
    def edit(root):
        for c in struct_decls(root, name):
            last = c.findall("data-member")[-1]
            size = int(c.get("size-in-bits"))
            grown = size + size - int(last.get("layout-offset-in-bits"))
            new = copy.deepcopy(last)
            new.set("layout-offset-in-bits", str(size))
            new.find("var-decl").set("name", "added_at_end")
            c.insert(list(c).index(last) + 1, new)
            c.set("size-in-bits", str(grown))
    return edit


def swap_members_2_3(name):
    """The third and fourth members trade places."""
    def edit(root):
        for c in struct_decls(root, name):
            m = c.findall("data-member")
            a = m[2].get("layout-offset-in-bits")
            m[2].set("layout-offset-in-bits", m[3].get("layout-offset-in-bits"))
            m[3].set("layout-offset-in-bits", a)
    return edit


def renumber(enum, enumerator):
    def edit(root):
        for e in root.iter("enum-decl"):
            if e.get("name") == enum:
                for n in e.findall("enumerator"):
                    if n.get("name") == enumerator:
                        n.set("value", str(int(n.get("value")) + 100))
    return edit


def remove_function(fn):
    def edit(root):
        for parent in root.iter():
            for child in list(parent):
                if (child.tag == "elf-symbol" and child.get("name") == fn) or (
                        child.tag == "function-decl" and
                        child.get("elf-symbol-id") == fn):
                    parent.remove(child)
    return edit


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--update":
        abidw(sys.argv[2], BASELINE)
        print("wrote", BASELINE)
        return 0
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    lib = sys.argv[1]
    base = Abi(BASELINE)
    check(len(base.functions) > 100 and "airs_behaviour" in base.structs,
          "the baseline describes the functions and the public structs")

    with tempfile.TemporaryDirectory() as tmp:
        # The library against the baseline.
        now = os.path.join(tmp, "now.abi")
        abidw(lib, now)
        rc, report = abidiff(BASELINE, now)
        print(report.strip())
        check(not rc & (1 | 2), "abidiff ran", report)
        check(not rc & INCOMPATIBLE,
              "no incompatible change (a function of the release is gone)")
        bad = compare(base, Abi(now))
        check(not bad, "no change the policy refuses", "\n".join(bad))
        added = sorted(set(Abi(now).functions) - set(base.functions))
        print(f"{len(base.functions)} functions in the baseline, "
              f"{len(added)} added: {' '.join(added) or '-'}")

        # The policy, on edited copies of the baseline.
        tree = ET.parse(BASELINE)
        cases = [
            ("the baseline against itself", lambda r: None, True),
            ("airs_behaviour grown at its end", grow_at_end("airs_behaviour"),
             True),
            ("airs_spawn_opts grown at its end",
             grow_at_end("airs_spawn_opts"), True),
            ("airs_behaviour with init and receive swapped",
             swap_members_2_3("airs_behaviour"), False),
            ("airs_child_counts (no size field) grown",
             grow_at_end("airs_child_counts"), False),
            ("AIRS_ENOPROC renumbered",
             renumber("airs_status", "AIRS_ENOPROC"), False),
            ("airs_version removed", remove_function("airs_version"), False),
        ]
        for i, (what, edit, allowed) in enumerate(cases):
            path = edited(tree, os.path.join(tmp, f"case{i}.abi"), edit)
            bad = compare(base, Abi(path))
            check((not bad) == allowed,
                  f"{what}: {'allowed' if allowed else 'refused'}",
                  "\n".join(bad))
        # abidiff itself sees the removal as incompatible.
        rc, report = abidiff(BASELINE, os.path.join(tmp, f"case{i}.abi"))
        check(rc & INCOMPATIBLE, "abidiff: a removed function is incompatible",
              report)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
