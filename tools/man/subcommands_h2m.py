#!/usr/bin/env python3
"""help2man --include text for soccr(1), from the binary's own --help.

  subcommands_h2m.py SOCCR > subcommands.h2m
  help2man --include subcommands.h2m ... SOCCR > soccr.1

Runs `SOCCR --help` for the list of subcommands and `SOCCR SUB --help` for
each, and turns them into help2man include sections: [SYNOPSIS], one line
per subcommand, and [SUBCOMMANDS], one subsection per subcommand (its
usage, description and flags). help2man itself turns `SOCCR --help` into
DESCRIPTION (the summaries and exit statuses) and `SOCCR --version` into
the header: nothing in the page is written twice, a new subcommand or flag
appears in it with no change here, and a subcommand whose help cannot be
read fails the build.
"""
import re
import subprocess
import sys


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"subcommands_h2m: {' '.join(argv)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def roff(line):
    """A line of help text as roff: backslashes, options' dashes, and
    leading control characters escaped."""
    line = line.replace("\\", "\\e")
    line = re.sub(r"(^|(?<=[\s(\[|`]))-", r"\\-", line)
    line = re.sub(r"(?<=\\-)-", r"\\-", line)
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def subcommands(top):
    names, inside = [], False
    for line in top.splitlines():
        if line == "subcommands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"  (\S+) +\S", line)
            if not m:
                sys.exit(f"subcommands_h2m: unexpected line in --help: {line!r}")
            names.append(m.group(1))
    if not names:
        sys.exit("subcommands_h2m: no subcommands in --help")
    return names


def parse(name, text):
    """(usage lines, description paragraphs, [(flag, help lines)])."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith(f"usage: soccr {name}"):
        sys.exit(f"subcommands_h2m: soccr {name} --help: no usage line")
    usage = [lines[0][len("usage: "):]]
    i = 1
    while i < len(lines) and lines[i].strip():
        usage.append(lines[i].strip())
        i += 1
    paragraphs, flags, current = [], [], []
    in_flags = False
    for line in lines[i:]:
        if line == "flags:":
            in_flags = True
            if current:
                paragraphs.append(current)
            current = []
        elif in_flags:
            if line.startswith("      "):
                flags[-1][1].append(line.strip())
            elif line.startswith("  -"):
                flags.append((line.strip(), []))
            elif line.strip():
                sys.exit(f"subcommands_h2m: soccr {name} --help: {line!r}")
        elif not line.strip():
            if current:
                paragraphs.append(current)
            current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(current)
    return usage, paragraphs, flags


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: subcommands_h2m.py SOCCR")
    soccr = argv[1]
    names = subcommands(run([soccr, "--help"]))
    synopsis = []
    sections = []
    for name in names:
        usage, paragraphs, flags = parse(name, run([soccr, name, "--help"]))
        synopsis.append(".br")
        synopsis.append(roff(" ".join(usage)).replace("soccr ", "\\fBsoccr\\fR ", 1))
        out = [f'.SS "soccr {name}"', ".nf"]
        out += [roff(u).replace("soccr ", "\\fBsoccr\\fR ", 1) if k == 0 else roff(u)
                for k, u in enumerate(usage)]
        out.append(".fi")
        for p in paragraphs:
            out.append(".PP")
            out += [roff(l) for l in p]
        for flag, help_lines in flags:
            out += [".TP", "\\fB" + roff(flag) + "\\fR"]
            out += [roff(l) for l in help_lines]
        sections.append("\n".join(out))
    print("[SYNOPSIS]")
    print("\\fBsoccr\\fR \\fISUBCOMMAND\\fR [\\fIFLAGS\\fR] [\\fIARGS\\fR]")
    print("\n".join(synopsis))
    print(".br")
    print("\\fBsoccr\\fR \\-\\-help | \\-\\-version")
    print()
    print("[SUBCOMMANDS]")
    print("Each subcommand's own \\fB\\-\\-help\\fR, as `soccr SUBCOMMAND \\-\\-help` prints it.")
    print("\n".join(sections))
    print()
    print("[SEE ALSO]")
    print("The documentation in soccr's source: README.md, docs/json-output.md "
          "(the \\fB\\-\\-json\\fR fields), docs/migration.md, docs/image-format.md.")


if __name__ == "__main__":
    main(sys.argv)
