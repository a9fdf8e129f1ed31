"""Repository rules over Debian's packaged Bazel rules (no network)."""

def _debian_rules_cc_impl(ctx):
    # Debian's bazel-rules-cc 0.0.4 references use_cpp_toolchain(), which Bazel 4.2.3 lacks.
    src = ctx.path("/usr/share/bazel/rules/cc")
    ctx.execute(["cp", "-r", str(src) + "/.", "."])
    for f in ["cc/private/rules_impl/compiler_flag.bzl", "cc/private/rules_impl/cc_flags_supplier.bzl"]:
        content = ctx.read(f)
        content = content.replace(', "use_cpp_toolchain")', ")").replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        ctx.file(f, content)

debian_rules_cc = repository_rule(implementation = _debian_rules_cc_impl, local = True)

def _coverage_stub_impl(ctx):
    # Bazel wants @remote_coverage_tools for every test; we never run coverage offline.
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator")
filegroup(name = "lcov_merger")
filegroup(name = "Main")
""")

coverage_stub = repository_rule(implementation = _coverage_stub_impl)
