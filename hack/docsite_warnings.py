"""Fail `make docs-site` on any Sphinx warning that comes from the collection.

The site builds offline, so intersphinx has no inventory of the Ansible docsite: the references
that antsibull-docs' templates make to it (common_return_values, ansible_configuration_settings,
ansible.builtin plugins, ansible-core's ANSIBLE_* variables) stay unresolved, and are counted but
allowed. Every other warning (a broken reference to this collection, bad RST in a guide or a
module's docs) fails the build.
"""
import re
import sys

COLLECTION_LABEL = "ansible_collections.modelarts.lite."
OFFLINE = [
    re.compile(r"undefined label: '(?!%s)[^']+'" % re.escape(COLLECTION_LABEL)),
    re.compile(r"'envvar' reference target not found: ANSIBLE_\w+"),
]


def main(log_path):
    with open(log_path, encoding="utf-8") as log:
        warnings = [line.rstrip("\n") for line in log if "WARNING" in line or "ERROR" in line]
    offline = [w for w in warnings if any(p.search(w) for p in OFFLINE)]
    ours = [w for w in warnings if w not in offline]
    print("docs site: %d warnings from the collection; %d references to the Ansible docsite left "
          "unresolved offline" % (len(ours), len(offline)))
    for warning in ours:
        print(warning)
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
