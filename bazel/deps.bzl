"""soccr's external dependencies, declared in one place.

A workspace that depends on soccr calls one function:

    load("@soccr//bazel:deps.bzl", "soccr_deps")
    soccr_deps()

Everything comes from Debian 12 packages (see ./bazelw for the list), so the
build works offline.
"""

load("//bazel:system_libs.bzl", "system_libs")

def soccr_deps():
    """Declares @soccr_deps: Abseil, GoogleTest, Google Benchmark, xxHash,
    libnftnl, libmnl and libnftables."""
    if native.existing_rule("soccr_deps"):
        return
    system_libs(
        name = "soccr_deps",
        modules = {
            "benchmark": "benchmark",
            "gmock": "gmock",
            "gmock_main": "gmock_main",
            "gtest": "gtest",
            "gtest_main": "gtest_main",
            "libmnl": "libmnl",
            "libnftables": "libnftables",
            "libnftnl": "libnftnl",
            "xxhash": "libxxhash",
        },
        # One target per installed Abseil module: @soccr_deps//:absl_status.
        module_prefixes = ["absl_"],
    )
