#!/usr/bin/env python3
"""Doxygen input filter: reads one public header, prints it with its plain
comments turned into Doxygen comments, line for line (line numbers in
warnings stay right).

The headers are written for people: plain C block comments (and // in
airs.hpp) above or after what they describe. Doxygen reads only its own
markers, so this adds them:
  - the opening comment of the file   -> /** @file ... */
  - a comment on lines of its own     -> /** ... */    (or ///)
  - a comment after code on its line  -> /**< ... */   (or ///<), not
    after a directive other than #define or after a closing brace
A section banner (/* ---- ... */) introduces several declarations, not
the next one: its text joins the file's description (@file), with its
first sentence as a heading. Text inside a comment is left as written
except for a '<', which is escaped when it does not open one of the few
HTML tags Doxygen knows ("<airs/airs.h>" is a header name, not a tag).
"""
import os
import re
import sys

HTML_TAGS = re.compile(r"</?(b|i|em|code|tt|br|p|pre)\b", re.I)


def escape(text):
    # '<' that opens no known tag, '\' and '@' that would start a Doxygen
    # command, and '::' after a '>', are the writer's plain text.
    out = []
    for i, ch in enumerate(text):
        if ch == "<" and not HTML_TAGS.match(text, i):
            out.append("\\<")
        elif ch in "\\@" and i + 1 < len(text) and text[i + 1].isalpha():
            out.append("\\" + ch)
        elif (ch == ":" and text.startswith("::", i) and i > 0 and
              not (text[i - 1].isalnum() or text[i - 1] in "_:")):
            out.append("\\")  # "T>::f()" is not a link request
            out.append(ch)
        else:
            out.append(ch)
    return "".join(out)


def filter_lines(lines, name):
    out = []
    in_block = False  # inside a /* ... */ that spans lines
    banner = False  # ... a section banner's
    seen_comment = False  # the file's opening comment is behind us
    for n, line in enumerate(lines):
        if in_block:
            end = line.find("*/")
            if banner and re.match(r"\s*\*\s*-{8,}", line):
                line = " */" if end >= 0 else " *"  # the rule, not text
                end = line.find("*/")
            if end < 0:
                out.append(escape(line))
                continue
            out.append(escape(line[:end]) + line[end:])
            in_block = banner = False
            continue
        stripped = line.lstrip()
        code = not stripped.startswith(("/*", "//"))
        pos = line.find("/*")
        if pos < 0 or line.startswith("#include"):
            out.append(_line_comment(line, code))
            continue
        head, body = line[:pos], line[pos + 2:]
        if body.startswith(" ---") and not code and n + 1 < len(lines):
            # A section banner: its text joins the file's description,
            # under its first sentence as a heading.
            m = re.match(r"(\s*\*\s*)([^.]*\.?)(.*)", lines[n + 1])
            out.append(head + "/** @file " + name + " @details <h3>" +
                       escape(m.group(2).strip()) + "</h3>")
            lines[n + 1] = m.group(1) + m.group(3).lstrip()
            in_block = banner = True
            continue
        if not seen_comment and not code:
            marker = "/** @file"
        elif body.startswith("*"):
            marker = "/*"  # already Doxygen
        elif code and (head.strip().startswith(("}", "#")) and
                       not head.startswith("#define")):
            marker = "/*"  # after a directive or a closing brace: a remark
        elif code:
            marker = "/**<"
        else:
            marker = "/**"
        seen_comment = True
        end = body.find("*/")
        if end < 0:
            in_block = True
            out.append(head + marker + escape(body) if marker != "/*"
                       else line)
        else:
            out.append(head + marker + escape(body[:end]) + body[end:]
                       if marker != "/*" else line)
    return out


def _line_comment(line, code):
    # airs.hpp: // comments. Code lines keep their remark unless it follows
    # a member; a run of // lines of their own documents what follows.
    pos = line.find("//")
    if pos < 0 or '"' in line[:pos] or line[pos:].startswith("///"):
        return line
    head, text = line[:pos], line[pos + 2:]
    if not code:
        return head + "///" + escape(text)
    if head.strip().startswith(("#", "}")) or not head.rstrip().endswith(
            (";", ",")):
        return line
    return head + "///<" + escape(text)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    sys.stdout.write("\n".join(filter_lines(lines, os.path.basename(sys.argv[1]))))


if __name__ == "__main__":
    main()
