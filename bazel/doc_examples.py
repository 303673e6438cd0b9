"""Turns the example code in file comments and Markdown into a C++ file.

    doc_examples.py SPEC OUT FILE...

Every FILE is a header (its opening comment's indented blocks, "//   code")
or a Markdown file (its ```c++ blocks). SPEC lists the files, one a line:

    soccr/paused_socket.h: int fd
    soccr/internal/error_context.h: soccr::BorrowedFd fd; skip 2

After the colon: what the examples take as given, as a function's
parameters (they become the parameters of the function each example is
compiled in, marked [[maybe_unused]]); then, after `;`, options:
`skip N` leaves out the file's Nth block (1-based: one that is not code,
such as a program's output), `namespace NS` compiles its examples in
namespace NS (default: the header's own first namespace, or soccr),
`include H` includes H too (a header the example uses beside the file's
own), `toplevel` compiles the examples at namespace scope instead of in a
function (for an example that defines a function or a class), `returns T`
gives the function another return type (int, for a main's body; void,
for gtest assertions, which return nothing), `nolink` compiles the
examples as inline functions, which the compiler checks in full but never
emits, so that nothing they call need be linked (for a header whose
definitions are in a binary's own sources, not in a library).

Each example becomes the body of `T DocExample_N(givens)` (T is
absl::Status unless `returns` says otherwise), in an inner scope so that
it may shadow a given, so an example may `return` a result. Its
ABSL_FLAG lines go before it, at global scope (where ABSL_FLAG must be).

A header's examples are compiled after `#include` of the header
itself; a Markdown block's own `#include` lines go to the top of the file.
A file listed in SPEC without a block to compile is an error.
"""

import re
import sys


def header_blocks(text):
    """The indented code blocks of the comment a header opens with."""
    blocks, current, pending_blank = [], [], False
    for line in text.splitlines():
        if not line.startswith("//"):
            break  # the opening comment ends at the first non-comment line
        if line.startswith("//   "):
            if pending_blank and current:
                current.append("")
            pending_blank = False
            current.append(line[5:])
        elif line.strip() == "//":
            pending_blank = True
        else:  # prose ends a block
            if current:
                blocks.append(current)
            current, pending_blank = [], False
    if current:
        blocks.append(current)
    return blocks


def markdown_blocks(text):
    blocks, current, inside = [], [], False
    for line in text.splitlines():
        if not inside and re.match(r"^```(c\+\+|cpp|cc)\s*$", line):
            inside, current = True, []
        elif inside and line.startswith("```"):
            inside = False
            blocks.append(current)
        elif inside:
            current.append(line)
    return blocks


def first_namespace(text):
    m = re.search(r"^namespace ([\w:]+) \{", text, re.M)
    return m.group(1) if m else "soccr"


def main(argv):
    spec_path, out_path, files = argv[1], argv[2], argv[3:]
    by_suffix = {}
    for f in files:
        by_suffix[f] = f
    specs = []
    for raw in open(spec_path, encoding="utf-8"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        path, _, rest = line.partition(":")
        parts = [p.strip() for p in rest.split(";")]
        givens, options = parts[0], parts[1:]
        skip, namespace, includes, toplevel, inline = set(), None, [], False, ""
        returns = "absl::Status"
        for o in options:
            if o.startswith("returns "):
                returns = o[8:].strip()
            elif o.startswith("include "):
                includes.append(o[8:].strip())
            elif o == "toplevel":
                toplevel = True
            elif o == "nolink":
                inline = "inline "
            elif o.startswith("skip "):
                skip.update(int(n) for n in o[5:].split(","))
            elif o.startswith("namespace "):
                namespace = o[10:].strip()
            elif o:
                sys.exit(f"{spec_path}: unknown option {o!r}")
        specs.append(
            (path.strip(), givens, skip, namespace, includes, toplevel, returns,
             inline)
        )

    def find(path):
        for f in files:
            if f == path or f.endswith("/" + path):
                return f
        sys.exit(f"{spec_path}: {path} is not among the inputs")

    top, body = ["#include \"absl/status/status.h\""], []
    n = 0
    for path, givens, skip, namespace, includes, toplevel, returns, inline in specs:
        text = open(find(path), encoding="utf-8").read()
        markdown = path.endswith(".md")
        blocks = markdown_blocks(text) if markdown else header_blocks(text)
        if not markdown:
            top.append(f'#include "{path}"')
        for h in includes:
            top.append(f"#include <{h[1:-1]}>" if h.startswith("<") else f'#include "{h}"')
        kept = [b for i, b in enumerate(blocks, 1) if i not in skip]
        if not kept:
            sys.exit(f"{path}: no example to compile")
        params = ", ".join(
            f"[[maybe_unused]] {g.strip()}" for g in givens.split(",") if g.strip()
        )
        ns = namespace or ("soccr" if markdown else first_namespace(text))
        for block in kept:
            n += 1
            code, flags = [], []
            for l in block:
                if l.startswith("#include"):
                    top.append(l)
                elif l.startswith("ABSL_FLAG("):
                    flags.append(l)
                else:
                    code.append(l)
            body.append(f"// {path}")
            body.extend(flags)
            body.append(f"namespace {ns} {{")
            if toplevel:
                body.extend(code)
            else:
                body.append(f"{inline}{returns} DocExample_{n}({params}) {{")
                body.append("  {")
                body.extend(("    " + l) if l else "" for l in code)
                body.append("  }")
                body.append("  return;" if returns == "void" else "  return {};")
                body.append("}")
            body.append(f"}}  // namespace {ns}")
            body.append("")
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("// Generated by bazel/doc_examples.py: do not edit.\n")
        out.write("\n".join(dict.fromkeys(top)) + "\n\n")
        out.write("\n".join(body))
        out.write("\nint main() { return 0; }\n")


if __name__ == "__main__":
    main(sys.argv)
