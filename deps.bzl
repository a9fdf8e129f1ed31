"""Repositories HAKMEM's BUILD files need. A consumer workspace calls hakmem_deps() too,
because Bazel ignores a dependency's own WORKSPACE file."""

load("@hakmem//third_party:system_repos.bzl", "coverage_stub", "debian_rules_cc")

# buildifier: disable=unnamed-macro
# (a WORKSPACE macro declares fixed repository names, as rules_cc's own deps functions do)
def hakmem_deps():
    """Declares the repositories HAKMEM's BUILD files load.

    rules_cc (Debian's, patched), rules_java, bazel_skylib and the coverage stub, each
    unless the calling workspace already declares it."""
    existing = native.existing_rules()
    if "rules_cc" not in existing:
        debian_rules_cc(name = "rules_cc")
    if "rules_java" not in existing:
        native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
    if "remote_coverage_tools" not in existing:
        coverage_stub(name = "remote_coverage_tools")
    if "bazel_skylib" not in existing:
        native.local_repository(name = "bazel_skylib", path = "/usr/share/bazel/tools/skylib")
