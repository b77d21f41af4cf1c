"""The docs site shows every guide, and its links and warnings are judged as make docs-site says."""
import importlib.util
import pathlib

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
REPOSITORY = "https://github.com/example/lite"
PREFIX = "ansible_collections.modelarts.lite.docsite."


def load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "hack" / ("%s.py" % name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_rst = load("docs_rst")
docsite_warnings = load("docsite_warnings")


def test_every_guide_is_on_the_docs_site():
    extra_docs = yaml.safe_load((REPO / "docs" / "docsite" / "extra-docs.yml").read_text())
    listed = docs_rst.guide_names(extra_docs)
    assert len(listed) == len(set(listed)), "a guide is listed twice in docs/docsite/extra-docs.yml"
    guides = sorted(p.stem for p in (REPO / "docs").glob("*.md"))
    assert sorted(listed) == guides, "docs/docsite/extra-docs.yml must list every docs/*.md (and nothing else)"


def test_links_point_where_the_site_has_them():
    guides = {"runbooks", "awx"}
    rewrite = docs_rst.rewrite_target
    assert rewrite("awx.md", guides, PREFIX, REPOSITORY) == (PREFIX + "awx", None)
    assert rewrite("runbooks.md#region-check", guides, PREFIX, REPOSITORY) == (None, "runbooks.html#region-check")
    assert rewrite("#iam_projects", guides, PREFIX, REPOSITORY) == (None, "#iam-projects")
    assert rewrite("../bench/README.md", guides, PREFIX, REPOSITORY) == (None, REPOSITORY + "/blob/main/bench/README.md")
    assert rewrite("../roles/provision/", guides, PREFIX, REPOSITORY) == (None, REPOSITORY + "/blob/main/roles/provision/")
    assert rewrite("images/t.png", guides, PREFIX, REPOSITORY, image=True) == (None, REPOSITORY + "/raw/main/docs/images/t.png")
    assert rewrite("https://example.com/x.md", guides, PREFIX, REPOSITORY) == (None, "https://example.com/x.md")
    # a Markdown file of docs/ that is not on the site is read in the repository
    assert rewrite("notes.md", guides, PREFIX, REPOSITORY) == (None, REPOSITORY + "/blob/main/docs/notes.md")


def test_headings_lose_pandoc_ids_and_links_to_guides_become_refs():
    blocks = [
        {"t": "Header", "c": [2, ["region-check", [], []], [{"t": "Str", "c": "Region"}]]},
        {"t": "Para", "c": [{"t": "Link", "c": [["", [], []], [{"t": "Str", "c": "awx.md"}], ["awx.md", ""]]}]},
    ]
    docs_rst.rewrite(blocks, {"awx"}, PREFIX, REPOSITORY)
    assert blocks[0]["c"][1][0] == ""
    assert blocks[1]["c"] == [{"t": "RawInline", "c": ["rst", ":ref:`awx.md <%sawx>`" % PREFIX]}]


def test_only_offline_references_to_the_ansible_docsite_are_allowed(tmp_path, capsys):
    log = tmp_path / "warnings.log"
    offline = [
        "rst/lite_pool_module.rst:2056: WARNING: undefined label: 'common_return_values' [ref.ref]",
        "rst/lite_pools_inventory.rst:373: WARNING: 'envvar' reference target not found: ANSIBLE_CACHE_PLUGIN [ref.envvar]",
    ]
    log.write_text("\n".join(offline) + "\n")
    assert docsite_warnings.main(str(log)) == 0
    ours = [
        "rst/docsite/awx.rst:9: WARNING: undefined label: 'ansible_collections.modelarts.lite.docsite.nope' [ref.ref]",
        "rst/docsite/runbooks.rst:12: WARNING: Inline literal start-string without end-string.",
    ]
    log.write_text("\n".join(offline + ours) + "\n")
    assert docsite_warnings.main(str(log)) == 1
    out = capsys.readouterr().out
    assert "2 warnings from the collection" in out and ours[0] in out and ours[1] in out
