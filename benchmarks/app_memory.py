"""Peak memory of the app's server process, driven in a real browser. One run, side by side.

Three Streamlit apps are started the way ``tests/test_browser.py`` starts the app
(``python -m streamlit run``, headless, a free port on 127.0.0.1) and driven by the same
Playwright steps in Debian's chromium (never a downloaded browser):

1. **bare** (baseline): ``st.write`` plus a ``st.chat_input`` that echoes, so it can be
   driven the same way;
2. **imports**: the same script, first importing chromadb, llama_index.core,
   sentence_transformers and torch;
3. **advisor**: ``app.py`` with ``ADVISOR_DATA_DIR`` in a temporary folder whose index was
   built first with ``advisor index``.

Steps: server up (health URL answers), page open in session 1, a situation, a follow-up
question, a Markdown export (the advisor only: the others have no export), a second
browser session sending a situation. After each step the server's peak RSS (``VmHWM`` in
``/proc/<pid>/status``, summed over its child processes, if any) and current RSS are read.

Then, to say what the extra memory is, one fresh process loads the advisor's parts one
at a time (libraries, embedding model, Chroma store, BM25, first queries, the chat
service, a PDF export) and reports the RSS each stage adds.

    python benchmarks/app_memory.py [--out benchmarks/results/app_memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import ROOT, machine, require_chromium, write_result

from tests.fault_server import free_port, serving, streamlit_command
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SITUATION

PLACEHOLDER = "Describe your situation or ask a question"
FOLLOW_UP = "How many labeled examples do we need before a LoRA fine-tune is worth trying?"
LIBRARIES = "import chromadb, llama_index.core, sentence_transformers, torch"
BARE_APP = f"""import streamlit as st

st.write("baseline app")
if message := st.chat_input("{PLACEHOLDER}"):
    st.write("echo: " + message)
"""
TIMEOUT_MS = 240_000


# --------------------------------------------------------------------------- memory


def _status_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0])
    return values


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            pids.extend(_tree(int(child)))
    return pids


def memory_mib(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of ``pid`` and its children."""
    pids = _tree(pid)
    stats = [_status_kb(p) for p in pids]
    return {
        "peak_rss_mib": round(sum(s["VmHWM"] for s in stats) / 1024, 1),
        "rss_mib": round(sum(s["VmRSS"] for s in stats) / 1024, 1),
        "processes": len(pids),
    }


# --------------------------------------------------------------------------- server


# --------------------------------------------------------------------------- driving


def open_chat(browser: Any, url: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=TIMEOUT_MS)
    return context, page


def send(page: Any, message: str, reply_text: str) -> None:
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(message)
    box.press("Enter")
    page.get_by_text(reply_text).first.wait_for(timeout=TIMEOUT_MS)


def drive(browser: Any, url: str, pid: int, advisor: bool, tmp: Path) -> list[dict[str, Any]]:
    """The same steps for every app; memory read after each."""
    steps: list[dict[str, Any]] = []

    def record(step: str, started: float) -> None:
        time.sleep(0.5)
        steps.append(
            {"step": step, "seconds": round(time.perf_counter() - started, 2), **memory_mib(pid)}
        )

    record("server up", time.perf_counter())
    t = time.perf_counter()
    first, page = open_chat(browser, url)
    record("session 1 open", t)
    t = time.perf_counter()
    send(page, SITUATION, "Verdict: NOT YET" if advisor else f"echo: {SITUATION}")
    record("situation", t)
    t = time.perf_counter()
    send(page, FOLLOW_UP, "From the guidance articles" if advisor else f"echo: {FOLLOW_UP}")
    record("follow-up question", t)
    t = time.perf_counter()
    if advisor:
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_role("button", name="Markdown").click()
        download.value.save_as(tmp / "export.md")
        exported = (tmp / "export.md").read_text(encoding="utf-8")
        assert "## Gate trace" in exported, "the export is not the conversation"
    record("export (Markdown)" if advisor else "export (none: no export in this app)", t)
    t = time.perf_counter()
    second, page_b = open_chat(browser, url)
    send(page_b, SITUATION, "Verdict: NOT YET" if advisor else f"echo: {SITUATION}")
    record("second session + situation", t)
    first.close()
    second.close()
    return steps


def measure_app(
    browser: Any, name: str, script: Path, env: dict[str, str], tmp: Path, advisor: bool
) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = streamlit_command(script, port)
    log = tmp / f"{name}.log"
    with serving(name, command, f"{url}/_stcore/health", log, timeout_s=120, cwd=ROOT, env=env) as (
        process
    ):
        steps = drive(browser, url, process.pid, advisor, tmp)
    print(f"{name}: " + json.dumps(steps), file=sys.stderr, flush=True)
    return {"script": str(script.name), "steps": steps, "peak_rss_mib": steps[-1]["peak_rss_mib"]}


# --------------------------------------------------------------------------- attribution


def attribute() -> int:
    """``--attribute``: the RSS each part of the advisor adds, in this fresh process.

    Uses ADVISOR_DATA_DIR from the environment (an index already built)."""
    rows: list[dict[str, Any]] = []

    def stage(name: str, fn: Callable[[], object]) -> Any:
        before = _status_kb(os.getpid())["VmRSS"]
        started = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - started
        after = _status_kb(os.getpid())
        rows.append(
            {
                "stage": name,
                "adds_mib": round((after["VmRSS"] - before) / 1024, 1),
                "rss_mib": round(after["VmRSS"] / 1024, 1),
                "peak_rss_mib": round(after["VmHWM"] / 1024, 1),
                "seconds": round(seconds, 2),
            }
        )
        return value

    def imports() -> None:
        import chromadb  # noqa: F401
        import llama_index.core  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401

    def advisor_imports() -> None:
        import llama_index.embeddings.huggingface
        import llama_index.retrievers.bm25
        import llama_index.vector_stores.chroma  # noqa: F401

        import advisor.chat
        import advisor.service  # noqa: F401

    stage("python + streamlit", lambda: __import__("streamlit"))
    stage("chromadb, llama_index.core, sentence_transformers, torch", imports)
    stage("llama-index integrations (huggingface, bm25, chroma) + advisor modules", advisor_imports)
    from advisor.deps import read_corpus
    from advisor.embeddings import build_embedding_model
    from advisor.retrieval import HybridRetriever, RetrievalMode
    from advisor.settings import load_settings
    from advisor.store import PassageStore

    settings = load_settings()
    model = stage(
        "embedding model weights (all-MiniLM-L6-v2)", lambda: build_embedding_model(settings)
    )
    corpus = stage("corpus parsed", lambda: read_corpus(settings))
    store = PassageStore(settings, model)
    report = stage("Chroma store opened and synced (0 embedded)", lambda: store.sync(corpus))
    assert report.embedded == 0, "the index was not built first"
    retriever = HybridRetriever(corpus, store, settings)
    stage(
        "BM25 index + first BM25 query", lambda: retriever.search(FOLLOW_UP, 6, RetrievalMode.BM25)
    )
    stage(
        "first query embedding (weights paged in from safetensors, activations)",
        lambda: model.get_query_embedding(FOLLOW_UP),
    )
    stage("first dense query (Chroma vector segment loaded)", lambda: store.query(FOLLOW_UP, 6))
    from advisor.chat import Conversation
    from advisor.deps import AdvisorDeps
    from advisor.service import ChatService

    deps = AdvisorDeps(settings, corpus, store, retriever, report)
    service = stage("chat service (ChatService.from_deps)", lambda: ChatService.from_deps(deps))
    conversation = Conversation()

    def turns() -> None:
        service.send("memory-benchmark", conversation, SITUATION)
        service.send("memory-benchmark", conversation, FOLLOW_UP)

    stage("a situation turn and a question turn", turns)
    stage("exports (Markdown, JSON, PDF)", lambda: service.exports(conversation))
    print(json.dumps(rows))
    return 0


# --------------------------------------------------------------------------- main


def main() -> int:
    if sys.argv[1:] == ["--attribute"]:
        return attribute()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    host = machine()  # before the run: its load average is other work's
    require_chromium(CHROMIUM)
    from playwright.sync_api import sync_playwright

    apps: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bare = tmp / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        imports = tmp / "imports_app.py"
        imports.write_text(f"{LIBRARIES}  # noqa: E401, F401\n{BARE_APP}", encoding="utf-8")
        data = tmp / "advisor-data"
        env = {**os.environ, "ADVISOR_DATA_DIR": str(data), "ADVISOR_LLM_PROVIDER": "none"}
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("advisor")), "index"],
            check=True,
            cwd=ROOT,
            env=env,
            capture_output=True,
        )
        index_s = time.perf_counter() - started

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                apps["bare (baseline)"] = measure_app(browser, "bare", bare, env, tmp, False)
                apps["imports only"] = measure_app(browser, "imports", imports, env, tmp, False)
                apps["advisor (app.py)"] = measure_app(
                    browser, "advisor", ROOT / "app.py", env, tmp, True
                )
            finally:
                browser.close()

        attribution = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--attribute"],
                check=True,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

    base = apps["bare (baseline)"]["peak_rss_mib"]
    for app in apps.values():
        app["peak_ratio_to_bare"] = round(app["peak_rss_mib"] / base, 2)
    imports_peak = apps["imports only"]["peak_rss_mib"]
    apps["advisor (app.py)"]["peak_ratio_to_imports_only"] = round(
        apps["advisor (app.py)"]["peak_rss_mib"] / imports_peak, 2
    )
    result = {
        "machine": host,
        "load_average_1m": {
            "start": host["load_average_1m_before_run"],
            "end": round(os.getloadavg()[0], 2),
        },
        "index_build_s": round(index_s, 1),
        "baseline": "bare (baseline)",
        "apps": apps,
        "attribution": attribution,
    }
    write_result(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
