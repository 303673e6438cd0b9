"""soccr_fuzzer: a libFuzzer target, its seed corpus replayed as a test, and
a runner that fuzzes from a copy of the corpus.

    load("//bazel:fuzz.bzl", "soccr_fuzzer")

    soccr_fuzzer(
        name = "image_parser_fuzzer",
        srcs = ["image_parser_fuzzer.cc"],   # defines LLVMFuzzerTestOneInput
        deps = ["//soccr/image"],
        corpus = "//testdata:fuzz_image_parser_corpus",
        dict = "image.dict",
    )

makes three targets:

  NAME               the fuzzer. Under --config=fuzz (clang, ASan, UBSan,
                     --define=soccr_fuzzing=libfuzzer) a libFuzzer binary;
                     otherwise, with any compiler, a reproducer that runs
                     each file or directory given on its command line
                     through LLVMFuzzerTestOneInput once.
  NAME_corpus_test   a cc_test that replays every file of the corpus, so
                     plain `bazel test //...` (gcc, no clang) runs every
                     seed and every crash input ever added as a regression
                     test.
  NAME_run           `bazel run --config=fuzz //pkg:NAME_run -- FLAGS...`
                     fuzzes from a writable copy of the corpus with the
                     dictionary; FLAGS go to libFuzzer (-max_total_time=60,
                     -jobs=2, ...). New inputs and crash artifacts land in
                     $SOCCR_FUZZ_WORKDIR (default: a fresh temporary
                     directory, printed).

The target's code sees SOCCR_FUZZING defined in all three, so it can skip
work that only matters outside fuzzing (never a check).
"""

def soccr_fuzzer(name, srcs, corpus, dict = None, deps = [], copts = [], **kwargs):
    """Declares a fuzzer, its corpus test and its runner. See the file comment.

    Args:
      name: the fuzzer's name; NAME_corpus_test and NAME_run are derived.
      srcs: C++ sources defining LLVMFuzzerTestOneInput (and optionally
        LLVMFuzzerInitialize).
      corpus: label of the checked-in seed corpus (a filegroup of files).
      dict: optional libFuzzer dictionary file.
      deps: the code under test and helpers.
      copts: extra compiler options.
      **kwargs: passed to every generated target (e.g. visibility, tags).
    """
    tags = kwargs.pop("tags", [])
    target = name + "_target"
    native.cc_library(
        name = target,
        testonly = True,
        srcs = srcs,
        copts = copts,
        defines = ["SOCCR_FUZZING"],
        deps = deps,
        alwayslink = True,
        tags = tags,
        **kwargs
    )

    # select() keys must be strings in Bazel 4; str(Label) keeps them
    # pointing at this repository when soccr is an external one.
    libfuzzer = str(Label("//bazel:fuzzing_libfuzzer"))
    replay_main = Label("//fuzz:replay_main")
    native.cc_binary(
        name = name,
        testonly = True,
        deps = [":" + target] + select({
            libfuzzer: [],
            "//conditions:default": [replay_main],
        }),
        linkopts = select({
            libfuzzer: ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = tags + ["soccr_fuzzer"],
        **kwargs
    )

    native.cc_test(
        name = name + "_corpus_test",
        size = "small",
        deps = [":" + target, replay_main],
        data = [corpus],
        args = ["$(locations %s)" % corpus],
        tags = tags,
        **kwargs
    )

    data = [":" + name, corpus]
    args = ["$(rootpath :%s)" % name]
    if dict:
        data.append(dict)
        args.append("-dict=$(rootpath %s)" % dict)
    native.sh_binary(
        name = name + "_run",
        testonly = True,
        srcs = [Label("//bazel:run_fuzzer.sh")],
        data = data,
        args = args + ["--seeds", "$(rootpaths %s)" % corpus, "--"],
        tags = tags + ["soccr_fuzzer_run"],
        **kwargs
    )
