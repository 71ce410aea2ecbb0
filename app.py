"""Fine-Tune Advisor — the Streamlit shell.

Thin on purpose: every user action is one call into ``advisor.service.ChatService``; this file
only lays out what those calls return. Everything users, documents or a model wrote is shown
through ``safe_markdown`` (escaped, inert) or ``st.text``; no HTML from content is rendered.
"""

from __future__ import annotations

import time

import streamlit as st

from advisor.chat import Conversation, Reply, Role
from advisor.compose import VERDICT_WORDS, label
from advisor.engine import Assessment, Outcome, Verdict
from advisor.errors import AdvisorError, describe
from advisor.facts import SPECS
from advisor.intents import parse_typed_value
from advisor.report import format_value
from advisor.service import ChatService, build_service, safe_markdown

st.set_page_config(page_title="Fine-Tune Advisor", page_icon="🧭", layout="wide")

EXAMPLES = (
    "We classify 500k support tickets a day into 12 fixed categories with GPT-4o. "
    "No eval set yet; we have about 700 labeled examples.",
    "Our assistant should answer questions from our 300-page policy manual, which changes "
    "every month. Should we fine-tune it so it knows the policies?",
    "We route 2M requests a month into 15 intents, unchanged for two years. Three weeks of "
    "prompt work with few-shot examples, an automated eval at 82% against a 95% target, and "
    "4,000 reviewed labeled examples.",
)
ECHO_WINDOW_S = 3.0
BADGE = {
    Verdict.FINE_TUNE: ("✅", "green"),
    Verdict.NOT_YET: ("⛔", "red"),
    Verdict.NEED_MORE_INFO: ("❔", "orange"),
}
MARK = {Outcome.PASS: "✅ pass", Outcome.FAIL: "❌ fail", Outcome.UNKNOWN: "❔ unknown"}


@st.cache_resource(show_spinner="Loading the guidance corpus and its index…")
def services() -> dict[str, ChatService]:
    """The one service of this server process (swapped when documents are re-indexed)."""
    return {"current": build_service()}


def service() -> ChatService:
    return services()["current"]


def owner_token() -> str:
    """This browser session's owner id, kept in the URL so a reload keeps the conversations."""
    from advisor.conversations import new_owner_token

    token = st.query_params.get("session")
    if not token or len(token) < 16:
        token = new_owner_token()
        st.query_params["session"] = token
    return token


def is_echo(conversation: Conversation, message: str) -> bool:
    """Was ``message`` the last thing answered, moments ago? Streamlit replays a chat
    submission into the next run when a run is interrupted; answering it twice would
    duplicate the turn."""
    from datetime import UTC, datetime

    last = next((m for m in reversed(conversation.messages) if m.role is Role.USER), None)
    if last is None or last.text.strip() != message.strip():
        return False
    return (datetime.now(UTC) - last.at).total_seconds() < ECHO_WINDOW_S


def show_error(exc: BaseException) -> None:
    st.error(safe_markdown(describe(exc)))  # it may name an uploaded file or a typed value


# --------------------------------------------------------------------------- pieces


def render_reply(reply: Reply) -> None:
    st.markdown(safe_markdown(reply.text))
    for note in reply.notes:
        st.caption(safe_markdown(note))
    if reply.citations:
        with st.expander(f"Sources ({len(reply.citations)})"):
            for c in reply.citations:
                st.markdown(
                    f"**[{c.marker}] {safe_markdown(c.title)}** — {safe_markdown(c.section)}"
                )
                st.markdown("> " + safe_markdown(c.quote).replace("  \n", "  \n> "))
                st.link_button(
                    "Open in the article",
                    f"?session={st.query_params.get('session', '')}&view=doc&doc={c.doc_id}"
                    f"&start={c.start}&end={c.end}",
                )


def render_verdict(assessment: Assessment) -> None:
    icon, colour = BADGE[assessment.verdict]
    st.markdown(f"### :{colour}-background[{icon} {VERDICT_WORDS[assessment.verdict]}]")
    if assessment.blockers:
        st.caption("Blockers: " + ", ".join(t.value for t in assessment.blockers))
    for gate in assessment.gates:
        with st.expander(f"{MARK[gate.outcome]} · {gate.title}"):
            st.markdown(safe_markdown(gate.explanation))
            for use in gate.deciding:
                shown = format_value(use.fact, use.value)
                where = f"turn {use.turn}, {use.source}" if use.source != "derived" else "derived"
                detail = use.quote or use.explanation
                st.markdown(
                    f"- {safe_markdown(label(use.fact))}: **{safe_markdown(shown)}** ({where})"
                    + (f" — {safe_markdown(detail)}" if detail else "")
                )
            st.markdown("> " + safe_markdown(f"“{gate.citations[0].quote}”"))
    with st.expander("Each article's own framework"):
        for view in assessment.views:
            st.markdown(f"**{safe_markdown(view.title)}**: {VERDICT_WORDS[view.verdict]}")


def render_facts(svc: ChatService, owner: str, conversation: Conversation) -> None:
    facts = conversation.ledger.resolve()
    st.markdown("#### Facts")
    if not facts.records:
        st.caption("No facts yet: describe your situation.")
    for name, record in facts.records.items():
        where = f"turn {record.turn}, {record.source.value}"
        quote = f" — “{record.quote}”" if record.quote else ""
        st.markdown(
            f"- {safe_markdown(label(name))}: **{safe_markdown(format_value(name, record.value))}**"
            f" ({where}){safe_markdown(quote)}"
        )
    unconfirmed = [n for n, r in facts.records.items() if r.source.value != "user"]
    if unconfirmed:
        with st.form("confirm", clear_on_submit=True):
            chosen = st.selectbox(
                "Confirm a fact as read", unconfirmed, format_func=label, key="confirm_name"
            )
            if st.form_submit_button("Confirm"):
                svc.correct(owner, conversation, chosen, facts.records[chosen].value)
                st.rerun()
    with st.form("correct", clear_on_submit=True):
        fact = st.selectbox("Correct a fact", list(SPECS), format_func=label, key="fact_name")
        raw = st.text_input("Value (yes/no, a number, or a choice)", key="fact_value")
        if st.form_submit_button("Set"):
            try:
                svc.correct(owner, conversation, fact, parse_typed_value(fact, raw))
                st.rerun()
            except AdvisorError as exc:
                show_error(exc)


def render_exports(svc: ChatService, conversation: Conversation) -> None:
    if not conversation.messages:
        return
    st.markdown("#### Export")
    stem = "fine-tune-advisor-" + conversation.id[:8]
    formats = (("Markdown", "md", "text/markdown"), ("JSON", "json", "application/json"))
    formats += (("PDF", "pdf", "application/pdf"),)
    for column, (name, fmt, mime) in zip(st.columns(3), formats, strict=True):
        column.download_button(
            name,
            lambda fmt=fmt: svc.export(conversation, fmt),  # built on click, not per render
            f"{stem}.{fmt}",
            mime,
            on_click="ignore",
        )


def render_sidebar(svc: ChatService, owner: str, conversation: Conversation) -> None:
    with st.sidebar:
        st.markdown("## 🧭 Fine-Tune Advisor")
        if st.button("➕ New conversation", use_container_width=True):
            st.query_params.pop("c", None)
            st.session_state.pop("conversation", None)
            st.rerun()
        st.markdown("#### Conversations")
        for item in svc.conversations(owner):
            current = item.id == conversation.id
            # a button label is Markdown (links, images): the title is the user's words
            label_text = ("▶ " if current else "") + safe_markdown(item.title)
            if st.button(label_text, key=f"open-{item.id}", use_container_width=True):
                st.query_params["c"] = item.id
                st.session_state.pop("conversation", None)
                st.rerun()
        with st.expander("Import a JSON export"):
            imported = st.file_uploader("Conversation export (.json)", type=["json"], key="imp")
            if imported is not None and st.button("Import"):
                try:
                    restored = svc.import_export(owner, imported.getvalue())
                    st.query_params["c"] = restored.id
                    st.session_state.pop("conversation", None)
                    st.rerun()
                except AdvisorError as exc:
                    show_error(exc)
        st.link_button("Documents and settings", f"?session={owner}&view=settings")
        if conversation.messages:
            with st.expander("Rename or delete this conversation"):
                title = st.text_input("Title", value=conversation.title, key="rename")
                if st.button("Rename") and title:
                    try:
                        svc.rename(owner, conversation.id, title)
                        st.session_state.pop("conversation", None)
                        st.rerun()
                    except AdvisorError as exc:
                        show_error(exc)
                if st.button("Delete", type="primary"):
                    svc.delete(owner, conversation.id)
                    st.query_params.pop("c", None)
                    st.session_state.pop("conversation", None)
                    st.rerun()


def render_settings(svc: ChatService) -> None:
    """Documents, the index and the language model."""
    session = st.query_params.get("session", "")
    st.link_button("← Back to the conversation", f"?session={session}")
    st.title("Documents and settings")

    st.markdown("#### Guidance documents")
    status = svc.index_status()
    st.markdown(
        f"{status['documents']} documents, {status['passages']} passages indexed "
        f"(corpus {status['corpus_version']}; store {safe_markdown(str(status['location']))})."
    )
    for problem in status["skipped"]:
        st.warning(safe_markdown(f"Skipped {problem}"))
    mine = svc.user_documents()
    if mine:
        st.markdown("Documents you added: " + ", ".join(safe_markdown(d.title) for d in mine))
    upload = st.file_uploader(
        "Add a guidance document (.md or .txt, up to 1 MB)",
        type=["md", "markdown", "txt"],
        key="upload",
    )
    if upload is not None and st.button("Add to the corpus"):
        bar = st.progress(0.0, text="Checking the document…")

        def progress(done: int, total: int, stage: str) -> None:
            bar.progress(done / max(total, 1), text=f"{stage.capitalize()}: {done} of {total}")

        try:
            services()["current"] = svc.add_document(upload.name, upload.getvalue(), progress)
            bar.progress(1.0, text="Indexed.")
            st.success(f"Added {safe_markdown(upload.name)}; it is searched and cited from now on.")
        except AdvisorError as exc:
            bar.empty()
            show_error(exc)
    if st.button("Rebuild the index"):
        bar = st.progress(0.0, text="Rebuilding the index…")

        def rebuild_progress(done: int, total: int, stage: str) -> None:
            bar.progress(done / max(total, 1), text=f"{stage.capitalize()}: {done} of {total}")

        try:
            services()["current"] = svc.reindex(rebuild=True, progress=rebuild_progress)
            bar.progress(1.0, text="Rebuilt.")
        except AdvisorError as exc:
            show_error(exc)

    st.markdown("#### Language model")
    name, state = svc.llm_status()
    st.markdown(safe_markdown(f"{name}: {state}" if name else state))
    if name and st.button("Check that it answers"):
        st.info(safe_markdown(svc.check_llm()))


def render_document(svc: ChatService) -> None:
    """The corpus viewer: an article with the cited span highlighted."""
    doc = svc.corpus.document(st.query_params.get("doc", ""))
    if doc is None:
        st.error("That article is not in the corpus.")
        return
    try:
        start = int(st.query_params.get("start", "0"))
        end = int(st.query_params.get("end", "0"))
    except ValueError:
        start = end = 0
    st.link_button("← Back to the conversation", f"?session={st.query_params.get('session', '')}")
    st.markdown(f"## {safe_markdown(doc.title)}")
    st.caption(safe_markdown(f"{doc.author or ''} · source: {doc.source}"))
    text = doc.text
    before, span, after = text[:start], text[start:end], text[end:]
    from html import escape

    html = (
        '<div style="white-space: pre-wrap; font-family: inherit; line-height: 1.5">'
        + escape(before)
        + '<mark id="cited" style="background: #ffe58a">'
        + escape(span)
        + "</mark>"
        + escape(after)
        + "</div>"
    )
    st.html(html)
    st.components.v1.html(
        "<script>const m = window.parent.document.getElementById('cited');"
        "if (m) { m.scrollIntoView({block: 'center'}); }</script>",
        height=0,
    )


# --------------------------------------------------------------------------- page

try:
    svc = service()
except Exception as exc:
    show_error(exc)
    st.stop()

owner = owner_token()
if st.query_params.get("view") == "doc":
    render_document(svc)
    st.stop()
if st.query_params.get("view") == "settings":
    render_settings(svc)
    st.stop()

conversation: Conversation = st.session_state.get("conversation") or svc.open(
    owner, st.query_params.get("c")
)
st.session_state["conversation"] = conversation
render_sidebar(svc, owner, conversation)

chat_col, side_col = st.columns([3, 2], gap="large")
assessment = svc.assess(conversation)

with chat_col:
    st.title("Should we fine-tune?")
    if not conversation.messages:
        st.markdown(
            "Describe your situation: the task, its volume, how you measure quality and "
            "what data you have. I check it against the decision gates of five guidance "
            "articles and quote the passages I rely on. Or try an example:"
        )
        for i, example in enumerate(EXAMPLES):
            if st.button(example, key=f"example-{i}", use_container_width=True):
                st.session_state.setdefault("queue", []).append(example)
                st.rerun()
    for message in conversation.messages:
        role = "user" if message.role in (Role.USER, Role.CORRECTION) else "assistant"
        with st.chat_message(role):
            if message.reply is not None:
                render_reply(message.reply)
            else:
                st.markdown(safe_markdown(message.text))

    # Messages queue: one is answered per run, in order, with the input disabled meanwhile.
    # A message leaves the queue only once its turn is complete (saved), and no Streamlit
    # call sits between the two, so an interrupted run neither loses nor repeats a turn.
    queue: list[str] = st.session_state.setdefault("queue", [])
    typed = st.chat_input("Describe your situation or ask a question", disabled=bool(queue))
    last = st.session_state.get("last_typed", ("", 0.0))
    # Streamlit can deliver one submission to two runs when a second arrives mid-run; the
    # same text again within a few seconds is that echo, not a new message.
    if typed and not (typed == last[0] and time.monotonic() - last[1] < ECHO_WINDOW_S):
        st.session_state["last_typed"] = (typed, time.monotonic())
        queue.append(typed)
    if queue and is_echo(conversation, queue[0]):
        queue.pop(0)  # already answered: a replayed submission
        st.rerun()
    if queue:
        with st.chat_message("user"):
            st.markdown(safe_markdown(queue[0]))
        with st.chat_message("assistant"):
            box = st.empty()
            streamed = ""
            try:
                for event in svc.stream(owner, conversation, queue[0]):
                    if not isinstance(event, Reply) and svc.advisor.llm is not None:
                        streamed += event
                        box.markdown(safe_markdown(streamed))
            except AdvisorError as exc:
                queue.pop(0)
                show_error(exc)
            else:
                queue.pop(0)
                st.query_params["c"] = conversation.id
                st.rerun()

with side_col:
    render_verdict(assessment)
    render_facts(svc, owner, conversation)
    render_exports(svc, conversation)
