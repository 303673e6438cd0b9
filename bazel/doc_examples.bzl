"""doc_examples_test: compiles the example code of file comments and
Markdown, so that an example that no longer compiles fails the build.

    load("//bazel:doc_examples.bzl", "doc_examples_test")

    doc_examples_test(
        name = "doc_examples_test",
        spec = "doc_examples.txt",      # which files, and what each takes
        srcs = ["paused_socket.h"],     # the files the spec names
        deps = [":soccr"],              # what the examples need
    )

bazel/doc_examples.py says how examples are found and what the spec holds.
The test itself does nothing when run: compiling it is the check, and
`bazel test //...` compiles it.
"""

def doc_examples_test(name, spec, srcs, deps = [], **kwargs):
    native.genrule(
        name = name + "_gen",
        srcs = [spec] + srcs,
        outs = [name + ".cc"],
        tools = ["//bazel:doc_examples.py"],
        cmd = "/usr/bin/python3 $(location //bazel:doc_examples.py) " +
              "$(location %s) $@ $(SRCS)" % spec,
        testonly = True,
    )
    native.cc_test(
        name = name,
        size = "small",
        srcs = [name + ".cc"],
        copts = [
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wno-sign-compare",
            "-Wno-missing-field-initializers",
            # An example may name a result only to show its type.
            "-Wno-unused-variable",
            "-Wno-unused-but-set-variable",
        ],
        deps = deps + ["@soccr_deps//:absl_status"],
        **kwargs
    )
