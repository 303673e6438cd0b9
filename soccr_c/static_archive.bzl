"""static_archive: one `ar` archive of a cc_library's objects and all its
dependencies' objects.

Bazel's own `lib<name>.a` of a cc_library holds that library's objects only;
a C caller wants one archive. The archive holds the position-independent
objects where Bazel built them (so it links into PIE executables and shared
objects alike), and nothing from precompiled system libraries, which stay
`-l` dependencies of whoever links the archive.

    static_archive(
        name = "libsoccr.a",
        deps = [":soccr_c"],
    )
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _static_archive_impl(ctx):
    objects = []
    seen = {}
    for dep in ctx.attr.deps:
        for linker_input in dep[CcInfo].linking_context.linker_inputs.to_list():
            for lib in linker_input.libraries:
                objs = lib.pic_objects if lib.pic_objects else lib.objects
                for o in objs:
                    if o.path not in seen:
                        seen[o.path] = True
                        objects.append(o)
    if not objects:
        fail("static_archive %s: the deps have no objects" % ctx.label)
    cc_toolchain = find_cpp_toolchain(ctx)
    out = ctx.actions.declare_file(ctx.attr.name)
    args = ctx.actions.args()

    # q: append (members may share a base name), c: create quietly,
    # s: write the symbol index, D: deterministic (zero timestamps and ids).
    args.add("qcsD")
    args.add(out)
    args.add_all(objects)
    ctx.actions.run(
        executable = cc_toolchain.ar_executable,
        arguments = [args],
        inputs = depset(objects, transitive = [cc_toolchain.all_files]),
        outputs = [out],
        mnemonic = "StaticArchive",
        progress_message = "Archiving %s" % out.short_path,
    )
    return [DefaultInfo(
        files = depset([out]),
        runfiles = ctx.runfiles(files = [out]),
    )]

static_archive = rule(
    implementation = _static_archive_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "_cc_toolchain": attr.label(
            default = Label("@bazel_tools//tools/cpp:current_cc_toolchain"),
        ),
    },
)
