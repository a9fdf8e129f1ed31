"""Shared rule wrappers for HAKMEM's tests."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def hak_gtest(name, srcs, deps = [], size = "small", tags = [], malloc = None, copts = [], data = []):
    """A GoogleTest suite, statically linked and tagged no_msan.

    Statically linked because internal symbols are hidden in the shared
    objects; tagged no_msan because Debian's libstdc++ is not MSan-instrumented
    (--config=msan-libcxx runs these against an MSan libc++ instead)."""
    cc_test(
        name = name,
        size = size,
        srcs = srcs,
        copts = copts,
        data = data,
        linkstatic = True,
        tags = tags + ["no_msan"],
        deps = deps + ["@com_google_googletest//:gtest_main"],
        malloc = malloc,
    )
