"""hak_fuzzer(): one harness, four targets.

  <name>             the fuzzer (libFuzzer, or AFL++ with --config=afl); manual
  <name>_run         bazel run wrapper keeping the corpus in the source tree's .fuzz/
  <name>_regression  a cc_test replaying the committed corpus and crash regressions with a
                     plain main(), so every config (asan, ubsan, tsan, msan) replays them
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

def hak_fuzzer(name, srcs, corpus, deps = [], copts = []):
    cc_library(
        name = name + "_harness",
        srcs = srcs,
        copts = copts,
        deps = deps,
        alwayslink = True,
        # No shared library of the harness alone: HAKMEM's internal symbols are hidden
        # (freelink.h declares the free-list key so), and a .so cannot leave them undefined.
        linkstatic = True,
        testonly = True,
    )
    cc_binary(
        name = name,
        linkopts = select({
            "//cfg:fuzz_engine_afl": ["/usr/lib/afl/libAFLDriver.a"],
            "//conditions:default": ["-fsanitize=fuzzer"],
        }),
        deps = [":" + name + "_harness"],
        tags = ["manual"],
        testonly = True,
    )
    native.sh_binary(
        name = name + "_run",
        srcs = ["run_fuzzer.sh"],
        args = [name, corpus],
        data = [":" + name],
        tags = ["manual"],
        testonly = True,
    )
    cc_test(
        name = name + "_regression",
        size = "small",
        srcs = ["replay_main.c"],
        args = ["fuzz/corpus/" + corpus] + (["fuzz/regressions/" + corpus] if native.glob(["regressions/" + corpus + "/*"]) else []),
        data = native.glob(["corpus/" + corpus + "/*", "regressions/" + corpus + "/*"]),
        linkstatic = True,
        deps = [":" + name + "_harness"],
    )
