"""Write the pip bootstrap script that ansible-test would otherwise download.

ansible-test creates its sanity virtualenvs without pip and bootstraps pip with a get-pip script
it downloads from a host these machines cannot reach, unless the script is already cached under
~/.ansible/test/cache/. The stand-in written here gets pip from the standard library's ensurepip
instead, then installs what ansible-test asked for from the machine's usual package index.

ensurepip runs in a subprocess on purpose: in-process it sets PIP_CONFIG_FILE=/dev/null, which
would hide the machine's pip configuration (its index and constraints) from the install after it.
"""
import pathlib
import re
import sys

import ansible_test

STAND_IN = '''\
"""get-pip stand-in written by modelarts.lite's Makefile (hack/ansible_test_pip_bootstrap.py)."""
import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
'''


def ansible_test_pip_version():
    source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        sys.exit("could not find the pip version ansible-test bootstraps in %s" % source)
    return match.group(1)


def main():
    version = ansible_test_pip_version()
    target = pathlib.Path.home() / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % version.replace(".", "_"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text() != STAND_IN:
        target.write_text(STAND_IN)
    print(target)


if __name__ == "__main__":
    main()
