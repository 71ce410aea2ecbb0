"""Fine-Tune Advisor — the Streamlit shell.

Thin on purpose: every user action is one call into ``advisor.service.ChatService``; this file
only lays out what those calls return. Everything users, documents or a model wrote is shown
through ``safe_markdown`` (escaped, inert) or ``st.text``; no HTML from content is rendered.
"""

from __future__ import annotations

import uuid

import streamlit as st

from advisor.chat import Conversation, Reply, Role
from advisor.compose import VERDICT_WORDS, label
from advisor.conversations import PendingMessage
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
#: How often the page looks for a finished reply while messages wait (seconds).
POLL_S = 0.4
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
    """This browser session's owner id, kept in the URL so a reload keeps the conversations.

    Read from the URL only when the session starts: a rerun carries the query string the
    browser had when it sent it, which may predate the URL's last change (see
    ``conversation_id``)."""
    from advisor.conversations import new_owner_token

    token: str | None = st.session_state.get("owner")
    if token is None:
        token = st.query_params.get("session")
        if not token or len(token) < 16:
            token = new_owner_token()
        st.session_state["owner"] = token
    if st.query_params.get("session") != token:
        st.query_params["session"] = token
    return token


def conversation_id() -> str | None:
    """The conversation this tab shows (``None``: a new one, not saved yet).

    Session state is the authority and the URL its mirror, read only when the session starts
    (a reload, a bookmark). A submission sent before the browser applied the URL's last
    change carries the old query string; trusting it would file a quick second message
    under a new conversation."""
    if "conversation_id" not in st.session_state:
        st.session_state["conversation_id"] = st.query_params.get("c")
    current: str | None = st.session_state["conversation_id"]
    if current and st.query_params.get("c") != current:
        st.query_params["c"] = current
    elif not current and "c" in st.query_params:
        st.query_params.pop("c")
    return current


def show_conversation(conversation: str | None) -> None:
    """Switch this tab to ``conversation`` (``None``: a new one), in the URL too."""
    st.session_state["conversation_id"] = conversation
    if conversation:
        st.query_params["c"] = conversation
    else:
        st.query_params.pop("c", None)


def submit(text: object) -> None:
    """Record a message (a chat submission or an example button): a callback, so Streamlit
    calls it exactly once per submission, before the run that shows it. The conversation
    exists, and its id is in the URL, from this moment; the answer comes in the background."""
    st.session_state.pop("submit_error", None)
    owner = owner_token()
    target = conversation_id() or uuid.uuid4().hex
    try:
        service().submit(owner, target, text)
    except AdvisorError as exc:
        st.session_state["submit_error"] = describe(exc)
        return
    show_conversation(target)


def on_chat_submit() -> None:
    submit(st.session_state.get("chat"))


def show_error_text(text: str) -> None:
    st.error(safe_markdown(text))  # it may name an uploaded file or a typed value


def show_error(exc: BaseException) -> None:
    show_error_text(describe(exc))


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
            show_conversation(None)
            st.rerun()
        st.markdown("#### Conversations")
        for item in svc.conversations(owner):
            current = item.id == conversation.id
            # a button label is Markdown (links, images): the title is the user's words
            label_text = ("▶ " if current else "") + safe_markdown(item.title)
            if st.button(label_text, key=f"open-{item.id}", use_container_width=True):
                show_conversation(item.id)
                st.rerun()
        with st.expander("Import a JSON export"):
            imported = st.file_uploader("Conversation export (.json)", type=["json"], key="imp")
            if imported is not None and st.button("Import"):
                try:
                    restored = svc.import_export(owner, imported.getvalue())
                    show_conversation(restored.id)
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
                        st.rerun()
                    except AdvisorError as exc:
                        show_error(exc)
                if st.button("Delete", type="primary"):
                    svc.delete(owner, conversation.id)
                    show_conversation(None)
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


def shown_state(pending: list[PendingMessage]) -> tuple[str, ...]:
    """What the page shows of the waiting messages: it is redrawn whole when this changes."""
    return tuple(f"{m.id}:{bool(m.error)}" for m in pending)


def render_pending(svc: ChatService, owner: str, conversation_id: str) -> list[PendingMessage]:
    """The messages not answered yet: the head one "working", the others queued, failed ones
    with their reason and a way to send them again."""
    pending = svc.pending(owner, conversation_id)
    head = next((m for m in pending if not m.error), None)
    for m in pending:
        with st.chat_message("user"):
            st.markdown(safe_markdown(m.text))
        with st.chat_message("assistant"):
            if m.error:
                st.warning(safe_markdown(m.error))
                again, remove = st.columns(2)
                again.button(
                    "Send again",
                    key=f"retry-{m.id}",
                    on_click=svc.inbox.retry,
                    args=(owner, conversation_id, m.id),
                )
                remove.button(
                    "Remove", key=f"remove-{m.id}", on_click=svc.inbox.discard, args=(owner, m.id)
                )
            elif m is head:
                so_far = svc.inbox.progress(m.id)
                if so_far:
                    st.markdown(safe_markdown(so_far))
                else:
                    st.caption("⏳ Working on it…")
            else:
                st.caption("🕓 Queued: answered after the message above.")
    return pending


@st.fragment(run_every=POLL_S)
def live_pending(
    svc: ChatService, owner: str, conversation_id: str, shown: tuple[str, ...]
) -> None:
    """Redrawn every POLL_S seconds while messages wait; the whole page is redrawn once the
    set of waiting messages changes (a reply was saved), and then polling stops."""
    if shown_state(render_pending(svc, owner, conversation_id)) != shown:
        st.rerun(scope="app")


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

# Read fresh on every run: the background answers messages and saves them there.
shown_id = conversation_id()
conversation, pending = svc.view(owner, shown_id)
if shown_id and shown_id != conversation.id:
    show_conversation(None)  # deleted, or not this session's: start a new one
render_sidebar(svc, owner, conversation)

chat_col, side_col = st.columns([3, 2], gap="large")
assessment = svc.assess(conversation)

with chat_col:
    st.title("Should we fine-tune?")
    if not conversation.messages and not pending:
        st.markdown(
            "Describe your situation: the task, its volume, how you measure quality and "
            "what data you have. I check it against the decision gates of five guidance "
            "articles and quote the passages I rely on. Or try an example:"
        )
        for i, example in enumerate(EXAMPLES):
            st.button(
                example,
                key=f"example-{i}",
                use_container_width=True,
                on_click=submit,
                args=(example,),
            )
    for message in conversation.messages:
        role = "user" if message.role in (Role.USER, Role.CORRECTION) else "assistant"
        with st.chat_message(role):
            if message.reply is not None:
                render_reply(message.reply)
            else:
                st.markdown(safe_markdown(message.text))
    if pending:
        if any(not m.error for m in pending):
            svc.inbox.kick(owner, conversation.id)  # after a restart nobody else will
        live_pending(svc, owner, conversation.id, shown_state(pending))
    if "submit_error" in st.session_state:  # shown until the next message is accepted
        show_error_text(st.session_state["submit_error"])
    # Never disabled: a disabled input drops what is submitted to it. Messages sent while
    # one is being answered wait in the inbox and are answered in order.
    st.chat_input(
        "Describe your situation or ask a question",
        key="chat",
        on_submit=on_chat_submit,
        max_chars=svc.advisor.max_message_chars,
    )

with side_col:
    render_verdict(assessment)
    render_facts(svc, owner, conversation)
    render_exports(svc, conversation)
