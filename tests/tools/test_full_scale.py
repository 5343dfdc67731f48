"""tools/full_scale.py: it reads the claims and numbers a chapter glued, and finds chapters by number."""

from __future__ import annotations

from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"


# --- make full: reading the claims back from an executed chapter ---------------------------------------------------

def _full_scale_tool():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("full_scale", BOOK.parent / "tools" / "full_scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_full_scale_reads_the_glued_claims_and_numbers():
    import nbformat
    from myst_nb.ext.glue import GLUE_PREFIX

    from rnnbook.claims import claims_table

    def glued(name, mime, value):
        # what myst-nb's glue stores: every representation of the object, each mime under the glue prefix
        bundle = {"text/html": value._repr_html_(), "text/markdown": value._repr_markdown_()} if mime is None \
            else {mime: value}
        return nbformat.v4.new_output("display_data", data={GLUE_PREFIX + m: v for m, v in bundle.items()},
                                      metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})

    cell = nbformat.v4.new_code_cell("report_claims(...)")
    cell.outputs = [glued("claims-04", None, claims_table({"LSTM < trigram (1.9 < 2.1)": True,
                                                                 "samples look like <Shakespeare> & co": False})),
                    glued("claims-04-lstm-val", "text/plain", "1.9134"),
                    glued("claims-05-other", "text/plain", "7.0")]  # another chapter's number: not read
    nb = nbformat.v4.new_notebook(cells=[cell])
    claims, numbers = _full_scale_tool().glued_claims(nb, "04")
    assert claims == {"LSTM < trigram (1.9 < 2.1)": True, "samples look like <Shakespeare> & co": False}
    assert numbers == {"lstm-val": 1.9134}


def test_full_scale_finds_chapters_by_number_and_names_a_wrong_one():
    tool = _full_scale_tool()
    assert [p.name for p in tool.chapter_paths(["4", "09b"])] == ["04_char_rnn.ipynb", "09b_vqa.ipynb"]
    assert len(tool.chapter_paths([])) == len(list(BOOK.glob("[0-9]*.ipynb")))
    with pytest.raises(SystemExit, match="no chapter '11'"):
        tool.chapter_paths(["11"])
