"""The Streamlit placeholder page, run headless with Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_search_page_shows_cited_passages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    assert not app.exception
    assert app.title[0].value == "Fine-Tune Advisor"
    app.text_input[0].input("how many labeled examples do we need").run()
    assert not app.exception
    texts = [t.value for t in app.text]
    assert any("500-2,000 high-quality labeled examples" in t for t in texts)
    assert any(t.startswith("[1] ") for t in texts)


def test_hostile_query_is_shown_as_text_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.text_input[0].input("<script>alert(1)</script>" + "x" * 5000).run()
    assert not app.exception
    assert any("limit is 2,000" in e.value for e in app.error)
