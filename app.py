"""Fine-Tune Advisor — Streamlit shell (placeholder: cited search over the corpus).

The shell stays thin: one package call per user action. The full chat app comes later.
"""

from __future__ import annotations

import streamlit as st

from advisor.deps import AdvisorDeps, build_deps
from advisor.errors import describe

st.set_page_config(page_title="Fine-Tune Advisor", page_icon="🧭", layout="centered")


@st.cache_resource(show_spinner="Loading the guidance corpus and its index…")
def deps() -> AdvisorDeps:
    return build_deps()


st.title("Fine-Tune Advisor")
st.caption(
    "Should we fine-tune a model? Search the guidance articles; every answer is a verbatim, "
    "cited passage."
)

try:
    advisor = deps()
except Exception as exc:
    st.error(describe(exc))
    st.stop()

if advisor.index_report.repaired:
    st.warning(advisor.index_report.repaired)
for problem in advisor.index_report.problems:
    st.text(f"Skipped {problem}")

query = st.text_input("Ask the corpus", placeholder="How many labeled examples do we need?")
if query:
    try:
        hits = advisor.retriever.search(query, k=5)
    except Exception as exc:
        st.error(describe(exc))
    else:
        for hit in hits:
            p = hit.passage
            with st.container(border=True):
                # Corpus text is untrusted: st.text renders it literally (no Markdown, no HTML).
                st.text(f"[{hit.rank}] {p.title} — {p.section}")
                st.text(p.text)
