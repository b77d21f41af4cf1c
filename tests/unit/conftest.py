# Unit tests import the collection as ansible_collections.modelarts.lite from build/: the Makefile
# links build/ansible_collections/modelarts/lite to the work tree; do the same if it is missing.
import os
import sys

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.join(REPO_ROOT, "build")
DEV_TREE = os.path.join(BUILD_DIR, "ansible_collections", "modelarts", "lite")

if not os.path.exists(DEV_TREE):
    os.makedirs(os.path.dirname(DEV_TREE), exist_ok=True)
    os.symlink(REPO_ROOT, DEV_TREE)
if BUILD_DIR not in sys.path:
    sys.path.insert(0, BUILD_DIR)
