#!/usr/bin/env python3
"""Installs the build into a scratch folder (meson install --destdir) and
uses it from CMake as a user would: find_package(airs CONFIG) with
CMAKE_PREFIX_PATH at the staged prefix. The imported targets must point
into the staged install (the config file finds its paths from its own
folder; absolute paths would name the real prefix, where nothing is),
airs::airs must build and run a C program against libairs.so, and
airs::airs_static one that needs no libairs.so (the static link's C++
runtime, threads and mimalloc come from the target). A request for a
version the package is not (99, or the next minor) must fail, and one for
its own version with EXACT must succeed.
Usage: check_cmake.py BUILD_DIR CC VERSION"""
import glob
import json
import os
import subprocess
import sys
import tempfile

build, cc, version = sys.argv[1:4]

USE = """#include <airs/airs.h>
#include <stdio.h>

int main(void) {
  airs_runtime* rt = NULL;
  if (airs_runtime_new(NULL, &rt) != AIRS_OK) return 1;
  airs_runtime_free(rt);
  if (airs_version() != AIRS_VERSION_NUMBER) return 2;
  printf("%s\\n", airs_version_string());
  return 0;
}
"""

USERS = """cmake_minimum_required(VERSION 3.13)
project(use_airs C)
find_package(airs REQUIRED CONFIG)
if(NOT airs_VERSION STREQUAL "@VERSION@")
  message(FATAL_ERROR "airs_VERSION is ${airs_VERSION}")
endif()
foreach(target airs::airs airs::airs_static)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "no target ${target}")
  endif()
  get_target_property(location ${target} IMPORTED_LOCATION)
  get_target_property(includes ${target} INTERFACE_INCLUDE_DIRECTORIES)
  foreach(path ${location} ${includes})
    string(FIND "${path}" "${STAGE}/" at)
    if(NOT at EQUAL 0)
      message(FATAL_ERROR "${target}: ${path} is not in ${STAGE}")
    endif()
  endforeach()
endforeach()
add_executable(use_shared use.c)
target_link_libraries(use_shared PRIVATE airs::airs)
add_executable(use_static use.c)
target_link_libraries(use_static PRIVATE airs::airs_static)
"""

PROBE = """cmake_minimum_required(VERSION 3.13)
project(probe C)
find_package(airs ${REQUEST} CONFIG REQUIRED)
"""


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({r.returncode}):\n"
                 f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


options = json.loads(run(["meson", "introspect", "--buildoptions",
                          build]).stdout)
prefix = next(o["value"] for o in options if o["name"] == "prefix")
env = dict(os.environ, CC=cc)

with tempfile.TemporaryDirectory() as tmp:
    dest = os.path.join(tmp, "dest")
    run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
         "--quiet"])
    stage = os.path.realpath(dest + prefix)
    configs = glob.glob(os.path.join(stage, "**", "cmake", "airs",
                                     "airsConfig*.cmake"), recursive=True)
    if len(configs) != 2:
        sys.exit(f"installed CMake package files: {configs}")

    src = os.path.join(tmp, "src")
    os.mkdir(src)
    with open(os.path.join(src, "use.c"), "w") as f:
        f.write(USE)
    with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
        f.write(USERS.replace("@VERSION@", version))
    out = os.path.join(tmp, "out")
    run(["cmake", "-G", "Ninja", "-S", src, "-B", out,
         "-DCMAKE_PREFIX_PATH=" + stage, "-DSTAGE=" + stage], env=env)
    run(["cmake", "--build", out])

    libdir = os.path.dirname(os.path.dirname(os.path.dirname(configs[0])))
    needed = run(["readelf", "-d", os.path.join(out, "use_static")]).stdout
    if "libairs.so" in needed:
        sys.exit("use_static needs libairs.so:\n" + needed)
    for prog in ["use_shared", "use_static"]:
        r = run([os.path.join(out, prog)], timeout=60,
                env=dict(os.environ, LD_LIBRARY_PATH=libdir))
        if r.stdout.strip() != version:
            sys.exit(f"{prog} printed {r.stdout.strip()!r}, not {version}")
    print("airs::airs and airs::airs_static build and run; staged at",
          stage)

    # The version file: which requests the package answers.
    major, minor = (int(p) for p in version.split(".")[:2])
    probe = os.path.join(tmp, "probe")
    os.mkdir(probe)
    with open(os.path.join(probe, "CMakeLists.txt"), "w") as f:
        f.write(PROBE)
    # A list for find_package's arguments: "VERSION;EXACT".
    for i, (request, accepted) in enumerate(
            [(f"{version};EXACT", True), ("99", False),
             (f"{major}.{minor + 1}", False)]):
        r = subprocess.run(["cmake", "-G", "Ninja", "-S", probe, "-B",
                            os.path.join(tmp, f"probe{i}"),
                            "-DCMAKE_PREFIX_PATH=" + stage,
                            "-DREQUEST=" + request],
                           capture_output=True, text=True, env=env)
        if (r.returncode == 0) != accepted:
            sys.exit(f"find_package(airs {request} CONFIG): "
                     f"{'found' if r.returncode == 0 else 'not found'}:\n"
                     f"{r.stderr[-4000:]}")
        said = " ".join(r.stderr.split())  # CMake wraps its messages
        if not accepted and ("compatible with requested version" not in said
                             or f"version: {version}" not in said):
            sys.exit(f"find_package(airs {request} CONFIG) failed for "
                     f"another reason:\n{r.stderr[-4000:]}")
        print(f"find_package(airs {request}):",
              "found" if accepted else "refused")
