"""Render the guides for the antsibull-docs site: docs/<name>.md -> docs/docsite/rst/<name>.rst.

The Markdown guides are the single source (GitHub and Galaxy show them as they are); antsibull-docs
takes extra docs only as RST under docs/docsite/rst/, with labels it prefixes per collection. So
`make collection` renders every guide that docs/docsite/extra-docs.yml lists, with pandoc (the
pypandoc-binary wheel), before the tarball is built; the RST is git-ignored, never edited.

Links are rewritten so they work on the site: a link to another rendered guide becomes a :ref: to
its label (Sphinx checks it), or a relative .html link when it points at a section; a link to a file
outside docs/ (roles/, bench/, ...) and an image point at the repository named in galaxy.yml.
Headings keep no pandoc identifier (antsibull-docs allows only prefixed labels): Sphinx names each
section from its title, and a link to a section names it the same way (docutils' make_id).
"""
import json
import pathlib
import posixpath
import shutil
import sys
from urllib.parse import urlsplit

import pypandoc
import yaml
from docutils.nodes import make_id

REPO = pathlib.Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
RST_DIR = DOCS / "docsite" / "rst"


def label_prefix(galaxy):
    """antsibull-docs refuses labels without this prefix in extra docs."""
    return "ansible_collections.%s.%s.docsite." % (galaxy["namespace"], galaxy["name"])


def guide_names(extra_docs):
    """Every toctree entry of extra-docs.yml, in order: the guides the site shows."""
    names = []
    for section in extra_docs["sections"]:
        for entry in section["toctree"]:
            names.append(entry["ref"] if isinstance(entry, dict) else entry)
    return names


def stringify(inlines):
    text = []
    for inline in inlines:
        kind, content = inline["t"], inline.get("c")
        if kind in ("Str", "Code", "Math", "RawInline"):
            text.append(content if kind == "Str" else content[-1])
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            text.append(" ")
        elif isinstance(content, list) and content and isinstance(content[-1], list):
            text.append(stringify([c for c in content[-1] if isinstance(c, dict)]))
    return "".join(text)


def rewrite_target(url, guides, prefix, repository, image=False):
    """Where a Markdown link of docs/ points on the site; a pandoc inline replaces the link when
    the target is a guide without a section (a :ref:), else None and the url to use."""
    parts = urlsplit(url)
    if parts.scheme:
        return None, url
    if not parts.path:
        return None, "#" + make_id(parts.fragment)
    path = posixpath.normpath(posixpath.join("docs", parts.path))
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if not image and posixpath.dirname(path) == "docs" and path.endswith(".md") and stem in guides:
        if parts.fragment:
            return None, "%s.html#%s" % (stem, make_id(parts.fragment))
        return "%s%s" % (prefix, stem), None
    kind = "raw" if image else "blob"
    return None, "%s/%s/main/%s" % (repository.rstrip("/"), kind, path + ("/" if url.endswith("/") else ""))


def rewrite(node, guides, prefix, repository):
    """Walk pandoc's JSON AST in place."""
    if isinstance(node, list):
        for i, child in enumerate(node):
            if isinstance(child, dict) and child.get("t") in ("Link", "Image"):
                _attr, inlines, (url, title) = child["c"]
                label, new_url = rewrite_target(url, guides, prefix, repository, image=child["t"] == "Image")
                if label:
                    text = stringify(inlines).replace("<", r"\<").replace("`", r"\`")
                    node[i] = {"t": "RawInline", "c": ["rst", ":ref:`%s <%s>`" % (text, label)]}
                    continue
                child["c"][2] = [new_url, title]
            rewrite(child, guides, prefix, repository)
    elif isinstance(node, dict):
        if node.get("t") == "Header":
            node["c"][1][0] = ""
        for value in node.values():
            rewrite(value, guides, prefix, repository)


def render(name, guides, prefix, repository):
    source = DOCS / ("%s.md" % name)
    ast = json.loads(pypandoc.convert_text(source.read_text(encoding="utf-8"), "json", format="gfm"))
    rewrite(ast["blocks"], guides, prefix, repository)
    body = pypandoc.convert_text(json.dumps(ast), "rst", format="json", extra_args=["--wrap=preserve"])
    header = "..\n  Generated from docs/%s.md by hack/docs_rst.py: edit the Markdown, not this file.\n\n" % name
    return header + ".. _%s%s:\n\n%s" % (prefix, name, body)


def main():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    extra_docs = yaml.safe_load((DOCS / "docsite" / "extra-docs.yml").read_text())
    guides = guide_names(extra_docs)
    missing = [name for name in guides if not (DOCS / ("%s.md" % name)).is_file()]
    if missing:
        sys.exit("docs/docsite/extra-docs.yml lists guides that docs/ does not have: %s" % ", ".join(missing))
    shutil.rmtree(RST_DIR, ignore_errors=True)
    RST_DIR.mkdir(parents=True)
    for name in guides:
        rst = render(name, set(guides), label_prefix(galaxy), galaxy["repository"])
        (RST_DIR / ("%s.rst" % name)).write_text(rst, encoding="utf-8")


if __name__ == "__main__":
    main()
