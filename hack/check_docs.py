"""Fail unless ansible-doc renders every module of the installed collection completely.

Checks each module's DOCUMENTATION, EXAMPLES and RETURN through ansible-doc itself (the way a user
reads them), that every option has a description, and that every RETURN field without sub-fields
has a C(sample) (Galaxy's docs show the sample as the field's example value).
"""
import json
import os
import pathlib
import subprocess
import sys

# `diff` needs no sample: it is the fields above, twice.
NO_SAMPLE_NEEDED = {"diff"}


def fields_without_sample(returns, prefix=""):
    missing = []
    for name, spec in (returns or {}).items():
        path = prefix + name
        if spec.get("contains"):
            missing += fields_without_sample(spec["contains"], path + ".")
        elif "sample" not in spec and name not in NO_SAMPLE_NEEDED:
            missing.append(path)
    return missing


def main(installed):
    modules = sorted(p.stem for p in (pathlib.Path(installed) / "plugins" / "modules").glob("*.py")
                     if p.stem != "__init__")
    if not modules:
        sys.exit("no modules found under %s" % installed)
    bin_dir = pathlib.Path(sys.executable).parent
    problems = []
    for name in modules:
        fqcn = "modelarts.lite." + name
        text = subprocess.run([str(bin_dir / "ansible-doc"), "-t", "module", fqcn],
                              capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        if text.returncode != 0 or "WARNING" in text.stderr or "ERROR" in text.stderr:
            problems.append("%s: ansible-doc failed: %s" % (fqcn, text.stderr.strip()[:500]))
            continue
        raw = subprocess.run([str(bin_dir / "ansible-doc"), "-t", "module", "--json", fqcn],
                             capture_output=True, text=True, check=True)
        doc = json.loads(raw.stdout)[fqcn]
        if not doc.get("examples"):
            problems.append("%s: no EXAMPLES" % fqcn)
        if not doc.get("return"):
            problems.append("%s: no RETURN" % fqcn)
        unsampled = fields_without_sample(doc.get("return"))
        if unsampled:
            problems.append("%s: RETURN fields without a sample: %s" % (fqcn, ", ".join(unsampled)))
        for option, spec in (doc["doc"].get("options") or {}).items():
            if not spec.get("description"):
                problems.append("%s: option %s has no description" % (fqcn, option))
        print("ansible-doc renders %s (%d options)" % (fqcn, len(doc["doc"].get("options") or {})))
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    main(sys.argv[1])
