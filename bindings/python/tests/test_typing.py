"""The package's type hints, as a user's type checker sees them.

mypy --strict checks two programs against the in-tree package (found
through MYPYPATH; its own modules are analysed but their errors are not
reported, as for an installed package with py.typed):

- typing_user.py, a realistic user program: no error at all (also with
  --python-version 3.9, the oldest the package supports);
- typing_errors.py, mistakes the hints must catch: an error on every line
  marked ``# E: <code>``, with that code, and on no other line.

mypy is required (Debian: apt-get install mypy; ./dev installs it): the
test fails without it rather than skip, so that CI never passes unchecked.

Usage: python3 test_typing.py (meson runs it, in suite python).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_SOURCE = os.path.dirname(HERE)
USER = os.path.join(HERE, "typing_user.py")
ERRORS = os.path.join(HERE, "typing_errors.py")

# "# E: arg-type (why)": the error code mypy must report on that line.
MARK = re.compile(r"#\s*E:\s*([a-z][a-z-]*)")
# "path:line: error: message  [code]"
ERROR_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: "
                        r"(?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$")


def mypy_command():
    """How to run mypy: this interpreter's module, else the mypy program
    (Debian's runs on the system python3, which may not be this one);
    None if there is neither."""
    probe = subprocess.run([sys.executable, "-c", "import mypy"],
                           capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "mypy"]
    program = shutil.which("mypy")
    return [program] if program else None


def run_mypy(path, *options):
    """(returncode, output) of mypy --strict on `path`."""
    command = mypy_command()
    if command is None:
        raise AssertionError("mypy is not installed: apt-get install mypy "
                             "(./dev installs it)")
    env = dict(os.environ, MYPYPATH=PACKAGE_SOURCE)
    with tempfile.TemporaryDirectory() as cache:
        done = subprocess.run(
            command + ["--strict", "--follow-imports=silent",
                       "--show-error-codes", "--no-error-summary",
                       "--no-color-output", "--cache-dir", cache,
                       *options, path],
            cwd=HERE, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def errors_by_line(output, path):
    """{line: [codes]} of the errors mypy reported in `path` (any other
    line of output, except notes, is a failure of its own)."""
    errors, other = {}, []
    for text in output.splitlines():
        match = ERROR_LINE.match(text)
        if match and os.path.basename(match["path"]) == \
                os.path.basename(path):
            errors.setdefault(int(match["line"]), []).append(
                match["code"] or "")
        elif text.strip() and ": note: " not in text:
            other.append(text)
    return errors, other


def marked_lines(path):
    """{line: code} of the lines marked ``# E: <code>``."""
    marks = {}
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            match = MARK.search(text)
            if match:
                marks[number] = match[1]
    return marks


class TypingTest(unittest.TestCase):
    def test_mypy_is_installed(self):
        self.assertIsNotNone(mypy_command(),
                             "mypy is not installed: apt-get install mypy "
                             "(./dev installs it)")

    def test_user_program_type_checks(self):
        for options in ((), ("--python-version", "3.9")):
            with self.subTest(options=options):
                status, output = run_mypy(USER, *options)
                self.assertEqual(status, 0,
                                 f"mypy --strict {' '.join(options)} "
                                 f"typing_user.py:\n{output}")

    def test_mistakes_are_caught(self):
        status, output = run_mypy(ERRORS)
        errors, other = errors_by_line(output, ERRORS)
        marks = marked_lines(ERRORS)
        self.assertGreaterEqual(len(marks), 30)
        self.assertNotEqual(status, 0)
        self.assertEqual(other, [], f"unexpected mypy output:\n{output}")
        missed = {line: code for line, code in marks.items()
                  if code not in errors.get(line, [])}
        unmarked = {line: codes for line, codes in errors.items()
                    if line not in marks}
        self.assertEqual(missed, {}, f"marked lines without their error "
                                     f"(line: code):\n{output}")
        self.assertEqual(unmarked, {}, f"errors on unmarked lines:\n"
                                       f"{output}")


if __name__ == "__main__":
    unittest.main()
