"""The package against the C headers: the constants it mirrors, the enum
families it mirrors in full, and the layout of its ctypes structs.

The header side comes from abi_dump (tests/abi_dump.c, built by meson,
path in AIRS_ABI_DUMP), which prints the values, sizeof and offsetof the
compiler sees as JSON. The headers' text is read too, to check that
abi_dump names every enum member, #define, struct and field in them.

Names map systematically:

- a C enum maps to one IntEnum whose members are the C names without the
  family's prefix (AIRS_EXIT_KILLED -> ExitKind.KILLED), see ENUMS;
- other families map to module-level names, the C name without AIRS_
  (AIRS_EINVAL -> errors.EINVAL, AIRS_SPAWN_LINK -> _ffi.SPAWN_LINK), see
  MODULE_FAMILIES;
- a ctypes struct FooBar or FooBarStruct maps to airs_foo_bar, with the
  C field names; an opaque handle FooHandle to airs_foo.
"""
import ctypes
import dataclasses
import enum
import importlib
import json
import os
import pkgutil
import re
import subprocess
import unittest

import support  # noqa: F401  (quiet logger)

import airs
from airs import _ffi, _osl_ffi, errors, message, monitoring, node, observe
from airs._spawning import MailboxPolicy
from airs.actor import Health
from airs.events import (EventKind, ProcessStats, RuntimeStats, Severity,
                         TraceKind)
from airs.message import DeadLetterReason, Priority
from airs.osl.fs import FileType
from airs.reasons import ExitKind
from airs.registry import Pick
from airs.supervisor import (AutoShutdown, ChildState, ChildType, Restart,
                             Shutdown, Strategy)

HEADERS = os.path.join(os.path.dirname(__file__), "..", "..", "..",
                       "include", "airs")
# io.h (the blocking pool's jobs, fd watches, the wake-up fd) is not
# mirrored yet: the package runs no jobs and watches no fds (the asyncio
# work of the Python issue brings the wake-up fd); its config keys, in
# airs.h, are. Sockets (net.h) and the system actors (osl.h, fs.h,
# proc.h) are, in airs._osl_ffi and airs.osl.
HEADER_FILES = ("airs.h", "supervisor.h", "broker.h", "version.h", "net.h",
                "osl.h", "fs.h", "proc.h", "node.h", "observe.h")

# C enum -> (the package's IntEnum, the prefix its member names drop).
ENUMS = {
    "airs_exit_kind": (ExitKind, "AIRS_EXIT_"),
    "airs_health": (Health, "AIRS_HEALTH_"),
    "airs_mailbox_policy": (MailboxPolicy, "AIRS_MAILBOX_"),
    "airs_priority": (Priority, "AIRS_PRIORITY_"),
    "airs_send_kind": (_ffi.SendKind, "AIRS_SEND_KIND_"),
    "airs_dead_letter_reason": (DeadLetterReason, "AIRS_DEAD_LETTER_"),
    "airs_severity": (Severity, "AIRS_SEVERITY_"),
    "airs_event_kind": (EventKind, "AIRS_EVENT_"),
    "airs_trace_kind": (TraceKind, "AIRS_TRACE_"),
    "airs_pick": (Pick, "AIRS_PICK_"),
    "airs_strategy": (Strategy, "AIRS_"),
    "airs_auto_shutdown": (AutoShutdown, "AIRS_AUTO_SHUTDOWN_"),
    "airs_restart": (Restart, "AIRS_RESTART_"),
    "airs_shutdown": (Shutdown, "AIRS_SHUTDOWN_"),
    "airs_child_type": (ChildType, "AIRS_CHILD_"),
    "airs_child_state": (ChildState, "AIRS_CHILD_"),
    "airs_fs_type": (FileType, "AIRS_FS_TYPE_"),
    "airs_node_down_reason": (node.DownReason, "AIRS_NODE_DOWN_"),
    "airs_process_state": (observe.ProcessState, "AIRS_PSTATE_"),
    "airs_top_key": (observe.TopKey, "AIRS_TOP_"),
}

# Families mirrored as module-level names: the C name without AIRS_.
MODULE_FAMILIES = {
    "airs_status": errors,
    "airs_config_key": _ffi,
    "limits": _ffi,
    "msg_types": _ffi,
    "struct_versions": _ffi,
    "spawn_flags": _ffi,
    "child_flags": _ffi,
    "net": _osl_ffi,
    "osl": _osl_ffi,
    "fs": _osl_ffi,
    "proc": _osl_ffi,
    "node": node,
    "observe": observe,
}

# Families mirrored another way, each checked by its own test below:
# process stat keys as monitoring._PROCESS_STATS in ProcessStats field
# order, the version macros as _ffi.PACKAGE_VERSION*.
OTHER_FAMILIES = {"airs_process_stat", "version"}

# Header constants, families or structs the package leaves out on purpose:
# C name -> why. Empty today: the package mirrors everything.
OMITTED = {}

# Upper-case module-level ints of those modules that are no header
# constant (PACKAGE_VERSION_NUMBER: see test_version); any other that is
# not one is reported.
BINDING_ONLY = {"PACKAGE_VERSION_NUMBER"}

_INT_CODES = "bBhHiIlLqQ"  # ctypes _type_ codes of integers

DUMP = None


def setUpModule():
    global DUMP
    path = os.environ.get("AIRS_ABI_DUMP")
    if not path:
        raise RuntimeError("AIRS_ABI_DUMP is not set: run this test "
                           "through meson test, which builds abi_dump")
    result = subprocess.run([path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{path} failed ({result.returncode}): "
                           f"{result.stderr}")
    DUMP = json.loads(result.stdout)


def package_classes(base):
    """The subclasses of `base` that the modules of the package (and of
    its subpackages) define."""
    found = []
    for info in pkgutil.walk_packages(airs.__path__, "airs."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, base)
                    and value.__module__ == module.__name__):
                found.append(value)
    return found


def snake(name):
    """CamelCase -> camel_case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def c_struct_name(cls):
    """The C type a ctypes struct of the package mirrors."""
    return "airs_" + snake(re.sub(r"(Struct|Handle)$", "", cls.__name__))


def ctypes_kind(ctype):
    """'signed' or 'unsigned' for a ctypes integer type, else 'other'."""
    code = getattr(ctype, "_type_", None)
    if (isinstance(code, str) and code in _INT_CODES
            and issubclass(ctype, ctypes._SimpleCData)):
        return "signed" if code.islower() else "unsigned"
    return "other"


def show(value):
    """A header value for a message: large ones (tags, masks) in hex."""
    if isinstance(value, int) and value > 0xFFFF:
        return f"{value:#x}"
    return repr(value) if isinstance(value, str) else str(value)


def c_kind(field):
    """The same for a field of the dump (no "signed": not an integer)."""
    if "signed" not in field:
        return "other"
    return "signed" if field["signed"] else "unsigned"


class ConstantTest(unittest.TestCase):

    def test_every_family_is_mapped(self):
        families = set(DUMP["constants"]) - set(OMITTED)
        mapped = set(ENUMS) | set(MODULE_FAMILIES) | OTHER_FAMILIES
        self.assertEqual(families - mapped, set(),
                         "header families the package does not mirror "
                         "(map them here, or list them in OMITTED)")
        self.assertEqual(mapped - families, set(),
                         "families mapped here that abi_dump lacks")

    def test_every_package_enum_is_mapped(self):
        mapped = {cls for cls, _ in ENUMS.values()}
        for cls in package_classes(enum.Enum):
            self.assertTrue(cls in mapped,
                            f"{cls.__module__}.{cls.__name__} is not "
                            f"mapped to a C enum in ENUMS")

    def test_enums_match_the_header(self):
        for family, (cls, prefix) in ENUMS.items():
            members = DUMP["constants"][family]
            for c_name, value in members.items():
                if c_name in OMITTED:
                    continue
                with self.subTest(c_name):
                    self.assertTrue(c_name.startswith(prefix),
                                    f"{c_name} lacks the prefix {prefix} "
                                    f"of {family}")
                    name = c_name[len(prefix):]
                    self.assertTrue(name in cls.__members__,
                                    f"{cls.__name__} lacks {name} "
                                    f"({c_name} = {value} in the "
                                    f"header)")
                    self.assertEqual(cls[name], value,
                                     f"{cls.__name__}.{name} is "
                                     f"{int(cls[name])}, the header's "
                                     f"{c_name} is {value}")
            for name in cls.__members__:
                with self.subTest(f"{cls.__name__}.{name}"):
                    self.assertTrue(prefix + name in members,
                                    f"{cls.__name__}.{name} has no "
                                    f"{prefix + name} in {family}")

    def test_module_constants_match_the_header(self):
        for family, module in MODULE_FAMILIES.items():
            for c_name, value in DUMP["constants"][family].items():
                if c_name in OMITTED:
                    continue
                name = c_name[len("AIRS_"):]
                with self.subTest(c_name):
                    self.assertTrue(hasattr(module, name),
                                    f"{module.__name__} lacks {name} "
                                    f"({c_name} = {show(value)} in the "
                                    f"header)")
                    self.assertEqual(getattr(module, name), value,
                                     f"{module.__name__}.{name} is "
                                     f"{show(getattr(module, name))}, the "
                                     f"header's {c_name} is {show(value)}")

    def test_no_stray_module_constants(self):
        # An upper-case int of a mirroring module must be a header
        # constant without AIRS_ (some are imported from another module),
        # else it is a typo or a constant the header dropped. Values: see
        # test_module_constants_match_the_header.
        header = {c_name[len("AIRS_"):]
                  for members in DUMP["constants"].values()
                  for c_name in members}
        for module in set(MODULE_FAMILIES.values()):
            for name, value in vars(module).items():
                if (not name.isupper() or not isinstance(value, int)
                        or isinstance(value, bool) or name in BINDING_ONLY):
                    continue
                with self.subTest(f"{module.__name__}.{name}"):
                    self.assertTrue(name in header,
                                    f"{module.__name__}.{name} mirrors "
                                    f"no header constant AIRS_{name}")

    def test_status_names_and_errors(self):
        statuses = DUMP["constants"]["airs_status"]
        self.assertEqual(errors.STATUS_NAMES,
                         {value: name for name, value in statuses.items()})
        # Every failure status has its exception class (AIRS_IGNORE is
        # no failure: an init's answer, never raised).
        self.assertEqual(set(errors._BY_STATUS),
                         set(statuses.values()) - {errors.OK, errors.IGNORE})

    def test_process_stat_keys_follow_process_stats(self):
        # monitoring reads the keys in order into ProcessStats' fields:
        # messages_enqueued <- AIRS_PSTAT_MSGS_ENQUEUED, and so on.
        keys = DUMP["constants"]["airs_process_stat"]
        names = ["AIRS_PSTAT_" + field.name.upper().replace("MESSAGES_",
                                                             "MSGS_")
                 for field in dataclasses.fields(ProcessStats)]
        self.assertEqual(sorted(names), sorted(keys),
                         "ProcessStats fields vs the header's "
                         "airs_process_stat")
        self.assertEqual(monitoring._PROCESS_STATS,
                         tuple(keys[name] for name in names))

    def test_version(self):
        version = DUMP["constants"]["version"]
        self.assertEqual(_ffi.PACKAGE_VERSION,
                         (version["AIRS_VERSION_MAJOR"],
                          version["AIRS_VERSION_MINOR"],
                          version["AIRS_VERSION_PATCH"]))
        self.assertEqual(_ffi.PACKAGE_VERSION_NUMBER,
                         version["AIRS_VERSION_NUMBER"])
        self.assertEqual(airs.__version__, version["AIRS_VERSION_STRING"])

    def test_message_tag_ranges(self):
        tags = DUMP["constants"]["msg_types"]
        binding = tags["AIRS_MSG_BINDING_BASE"]
        system = tags["AIRS_MSG_SYSTEM_BASE"]
        self.assertEqual(message.USER_TYPE_LIMIT, tags["AIRS_MSG_OSL_BASE"])
        self.assertLess(tags["AIRS_MSG_OSL_BASE"], binding)
        self.assertEqual(message.SYSTEM_BASE, system)
        for name in ("REF_SEND_BASE", "REF_REPLY_BASE", "REF_HELD_BASE"):
            self.assertTrue(binding <= getattr(message, name) < system,
                            f"message.{name} is outside the binding range")


class StructTest(unittest.TestCase):

    def package_structs(self):
        """{C name: ctypes struct} of the package's structs with fields."""
        structs = {}
        for cls in package_classes(ctypes.Structure):
            if getattr(cls, "_fields_", None):
                structs[c_struct_name(cls)] = cls
        return structs

    def test_every_struct_is_mirrored(self):
        package = set(self.package_structs())
        header = set(DUMP["structs"]) - set(OMITTED)
        self.assertEqual(header - package, set(),
                         "header structs the package has no ctypes struct "
                         "for (or list them in OMITTED)")
        self.assertEqual(package - header, set(),
                         "package structs that match no header struct")

    def test_layouts_match_the_header(self):
        for c_name, cls in self.package_structs().items():
            c_struct = DUMP["structs"].get(c_name)
            if c_struct is None:
                continue  # test_every_struct_is_mirrored says so
            with self.subTest(c_name):
                self.check_layout(c_name, cls, c_struct)

    def check_layout(self, c_name, cls, c_struct):
        where = f"{cls.__name__} ({c_name})"
        c_fields = c_struct["fields"]
        names = [field[0] for field in cls._fields_]
        self.assertEqual([n for n in names if n not in c_fields], [],
                         f"{where} declares fields the C struct lacks")
        self.assertEqual([n for n in c_fields if n not in names], [],
                         f"{where} lacks fields of the C struct")
        for name, ctype in (field[:2] for field in cls._fields_):
            c_field = c_fields[name]
            descriptor = getattr(cls, name)
            with self.subTest(f"{c_name}.{name}"):
                self.assertEqual(descriptor.offset, c_field["offset"],
                                 f"offset of {where}.{name}")
                self.assertEqual(descriptor.size, c_field["size"],
                                 f"size of {where}.{name}")
                self.assertEqual(ctypes_kind(ctype), c_kind(c_field),
                                 f"{where}.{name} is {ctype.__name__}")
        self.assertEqual(ctypes.sizeof(cls), c_struct["size"],
                         f"sizeof {where}")

    def test_runtime_stats_follow_the_struct(self):
        # monitoring builds RuntimeStats from the counters in struct order.
        fields = list(DUMP["structs"]["airs_runtime_stats"]["fields"])
        self.assertEqual(fields[:2], ["version", "size"])
        self.assertEqual([f.name for f in dataclasses.fields(RuntimeStats)],
                         fields[2:])

    def test_opaque_handles_name_header_types(self):
        header = HeaderText()
        for cls in package_classes(ctypes.Structure):
            if not getattr(cls, "_fields_", None):
                with self.subTest(cls.__name__):
                    self.assertIn(c_struct_name(cls), header.opaque)


class HeaderText:
    """What the headers declare, read from their text (comments
    removed): enums with their members, object-like #defines with a
    value, structs with their fields, and opaque struct typedefs."""

    def __init__(self):
        text = ""
        for name in HEADER_FILES:
            with open(os.path.join(HEADERS, name)) as f:
                text += f.read() + "\n"
        text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
        self.enums = {
            m.group(1): [item.split("=")[0].strip()
                         for item in m.group(2).split(",") if item.strip()]
            for m in re.finditer(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}",
                                 text, re.S)}
        # Function-like macros have "(" right after the name; include
        # guards have no value.
        self.defines = re.findall(r"^[ \t]*#[ \t]*define[ \t]+(AIRS_\w+)"
                                  r"[ \t]+\S", text, re.M)
        self.structs = {
            m.group(1): [self.field_name(decl)
                         for decl in m.group(2).split(";") if decl.strip()]
            for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}",
                                 text, re.S)}
        self.opaque = set(re.findall(
            r"typedef\s+struct\s+(\w+)\s+\1\s*;", text))

    @staticmethod
    def field_name(decl):
        pointer = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
        if pointer:
            return pointer.group(1)
        return re.search(r"(\w+)\s*(?:\[[^\]]*\])?\s*$", decl).group(1)


class DumperCoversHeadersTest(unittest.TestCase):
    """abi_dump is written by hand: when the headers grow, these say what
    it must print too."""

    @classmethod
    def setUpClass(cls):
        cls.header = HeaderText()

    def test_enums(self):
        self.assertGreater(len(self.header.enums), 15)
        for name, members in self.header.enums.items():
            with self.subTest(name):
                self.assertTrue(name in DUMP["constants"],
                                f"abi_dump.c does not print enum {name}")
                self.assertEqual(list(DUMP["constants"][name]), members,
                                 f"abi_dump.c's {name} vs the header's")

    def test_defines(self):
        printed = set()
        for family, members in DUMP["constants"].items():
            if family not in self.header.enums:
                printed.update(members)
        self.assertGreater(len(self.header.defines), 20)
        self.assertEqual(set(self.header.defines) - printed, set(),
                         "#defines abi_dump.c does not print")
        self.assertEqual(printed - set(self.header.defines), set(),
                         "abi_dump.c prints what the headers do not "
                         "#define")

    def test_structs(self):
        self.assertGreater(len(self.header.structs), 5)
        self.assertEqual(set(self.header.structs), set(DUMP["structs"]),
                         "structs of the headers vs abi_dump.c's")
        for name, fields in self.header.structs.items():
            if name in DUMP["structs"]:
                with self.subTest(name):
                    self.assertEqual(list(DUMP["structs"][name]["fields"]),
                                     fields,
                                     f"abi_dump.c's {name} fields vs the "
                                     f"header's")


if __name__ == "__main__":
    unittest.main()
