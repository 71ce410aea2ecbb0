"""Crash safety, for real: processes killed with SIGKILL while they index or save, and two
processes on one embedded store.

Every process under test is a real child Python process (``build_deps``, the app's own start-up
path, or the ``advisor index`` command; ``ConversationStore.save``) killed by the kernel at a
moment chosen from its own progress output, never simulated. What must hold afterwards:

- the index: the next start finishes it (only the missing passages are embedded, or it is
  rebuilt when damaged), its count equals the corpus passages, every stored vector retrieves
  itself, stored vectors equal fresh embeddings of their passages, and retrieval golden
  questions hit their article;
- the conversations: the database passes ``PRAGMA integrity_check``, every turn the child
  reported saved is there, and every row is a whole, valid conversation;
- two processes: one holding the index lock makes the other wait and proceed, or be refused
  after ``ADVISOR_INDEX_LOCK_TIMEOUT_S`` with a message naming server mode.
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHILD_TIMEOUT_S = 240.0
#: Small batches: many progress lines, so kill points fall between and inside batch writes.
BATCH = 8

INDEX_CHILD = r"""
import json, logging, random, sys
import numpy as np
from advisor.deps import build_deps

class LockWait(logging.Handler):
    def emit(self, record):
        if "not acquired" in record.getMessage() and not getattr(self, "said", False):
            self.said = True
            print(json.dumps({"lock": "waiting"}), flush=True)

logging.getLogger("filelock").addHandler(LockWait())
logging.getLogger("filelock").setLevel(logging.DEBUG)

def progress(done, total, stage):
    print(json.dumps({"progress": done, "total": total, "stage": stage}), flush=True)

print(json.dumps({"started": True}), flush=True)
deps = build_deps(rebuild="--rebuild" in sys.argv, progress=progress)
r = deps.index_report
out = {"done": True, "embedded": r.embedded, "deleted": r.deleted, "repaired": r.repaired,
       "total": r.total_passages, "count": deps.store.count()}
if "--verify" in sys.argv:
    from advisor.retrieval import RetrievalMode
    from advisor.store import index_text
    col = deps.store._collection
    got = col.get(include=["embeddings"])
    ids = list(got["ids"])
    vectors = np.asarray(got["embeddings"], dtype=float)
    expected = {p.passage_id: p for p in deps.corpus.passages}
    out["ids_match"] = sorted(ids) == sorted(expected)
    found = col.query(query_embeddings=vectors.tolist(), n_results=1, include=["distances"])
    out["self_hits"] = sum(
        1 for own, hit, dist in zip(ids, found["ids"], found["distances"])
        if hit and (hit[0] == own or dist[0] < 1e-3)
    )
    sample = random.Random(7).sample(ids, min(8, len(ids)))
    fresh = np.asarray(deps.store.embed_model.get_text_embedding_batch(
        [index_text(expected[i], deps.settings.index_context) for i in sample]))
    stored = vectors[[ids.index(i) for i in sample]]
    cos = (fresh * stored).sum(1) / (np.linalg.norm(fresh, axis=1) * np.linalg.norm(stored, axis=1))
    out["min_cosine_fresh_vs_stored"] = float(cos.min())
    golden = []
    for question, doc in json.loads(sys.argv[-1]):
        hits = deps.retriever.search(question, k=5, mode=RetrievalMode.DENSE)
        golden.append(doc in [h.passage.doc_id for h in hits])
    out["golden"] = golden
print(json.dumps(out), flush=True)
"""

#: (question, article it must hit) from evals/retrieval.yaml.
GOLDEN = [
    (
        "How many labeled examples do we need before a LoRA fine-tune is worth trying?",
        "zalt-is-fine-tuning-worth-it",
    ),
    (
        "Would a tuned model fix our flaky AI feature, or should we invest in retries and "
        "fallbacks first?",
        "apptivity-nine-times-out-of-ten",
    ),
]


# --------------------------------------------------------------------------- helpers


@dataclass
class Child:
    """A child process whose stdout lines are read by a thread (JSON lines are parsed)."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_json(self, deadline: float) -> dict[str, Any] | None:
        """The next JSON line (other output is kept in ``seen``); None at end of output."""
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"child timed out; output: {self.seen[-20:]}")
            if line is None:
                return None
            self.seen.append(line)
            if line.startswith("{"):
                return dict(json.loads(line))

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL

    def finish(self) -> tuple[dict[str, Any], str]:
        """The last JSON line, and stderr, once the child exits."""
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        last: dict[str, Any] = {}
        while (item := self.next_json(deadline)) is not None:
            last = item
        self.process.wait(timeout=30)
        assert self.process.stderr is not None
        return last, self.process.stderr.read()


def spawn(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> Child:
    process = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", **env},
        cwd=cwd,
    )
    return Child(process)


@contextmanager
def reaped(child: Child) -> Iterator[Child]:
    try:
        yield child
    finally:
        if child.process.poll() is None:
            child.process.kill()
            child.process.wait(timeout=30)


_WORDS = [
    "orchard",
    "pear",
    "ladder",
    "frost",
    "basket",
    "cider",
    "graft",
    "bloom",
    "hive",
    "prune",
    "soil",
    "drizzle",
    "shed",
    "barrow",
    "hedge",
    "lantern",
    "quince",
    "walnut",
    "moss",
    "gate",
    "kiln",
    "loom",
    "thatch",
    "meadow",
    "brook",
    "pollen",
    "spade",
    "twine",
    "furrow",
    "harrow",
    "sickle",
    "apricot",
    "damson",
    "medlar",
    "rootstock",
    "canker",
    "mulch",
    "compost",
    "trellis",
]


def big_corpus(target: Path, extra_docs: int) -> Path:
    """The shipped corpus plus generated field notes (one ~1,000-character passage per
    section; about orchards, so they never outrank the articles on fine-tuning questions)."""
    shutil.copytree(CORPUS, target)
    rng = random.Random(11)
    for d in range(extra_docs):
        sections = []
        for s in range(6):
            sentences = []
            while sum(len(x) for x in sentences) < 900:
                words = rng.sample(_WORDS, 9)
                sentences.append(f"Row {rng.randint(1, 999)} " + " ".join(words) + ".")
            sections.append(f"## Week {s + 1}\n\n" + " ".join(sentences))
        body = f"---\nid: field-notes-{d}\ntitle: Orchard field notes {d}\n---\n\n"
        (target / f"field-notes-{d}.md").write_text(body + "\n\n".join(sections) + "\n")
    return target


def index_env(data: Path, corpus: Path, **extra: str) -> dict[str, str]:
    return {
        "ADVISOR_DATA_DIR": str(data),
        "ADVISOR_CORPUS_DIR": str(corpus),
        "ADVISOR_EMBEDDING_BATCH_SIZE": str(BATCH),
        "ADVISOR_LLM_PROVIDER": "none",
        **extra,
    }


def index_child(script: Path, env: dict[str, str], *flags: str) -> Child:
    return spawn([str(script), *flags, json.dumps(GOLDEN)], env)


# --------------------------------------------------------------------------- a. kill -9 mid-index


@dataclass
class KillPoint:
    name: str
    rebuild: bool = False
    min_done: int = 0  # kill once progress shows at least this many passages embedded
    until_total: bool = False  # ... or once the last batch is written
    delay_s: tuple[float, float] = (0.0, 0.0)  # then wait a random time in this range


KILL_POINTS = [
    KillPoint("inside the first batch", delay_s=(0.05, 0.3)),
    KillPoint("mid-embedding, inside a batch", min_done=2 * BATCH, delay_s=(0.1, 0.5)),
    KillPoint("the instant a batch write returns", min_done=2 * BATCH),
    KillPoint("mid-rebuild (--rebuild), after its first batch", rebuild=True, min_done=BATCH),
    KillPoint("after the last batch (final probe, cleanup, exit)", until_total=True),
]


def test_kill_9_during_indexing_is_finished_by_the_next_start(tmp_path: Path) -> None:
    """One data dir, killed at each point in turn; each fresh start must resume from what
    the killed one wrote (or rebuild a damaged store), and the last one must be complete."""
    script = tmp_path / "index_child.py"
    script.write_text(INDEX_CHILD)
    corpus = big_corpus(tmp_path / "corpus", extra_docs=3)
    env = index_env(tmp_path / "data", corpus)
    rng = random.Random(5)
    log: list[dict[str, Any]] = []
    persisted_at_least = 0  # passages the previous (killed) child reported written
    total: int | None = None
    for point in KILL_POINTS:
        flags = ["--rebuild"] if point.rebuild else []
        with reaped(index_child(script, env, *flags)) as child:
            deadline = time.monotonic() + CHILD_TIMEOUT_S
            missing_at_start: int | None = None
            done = 0
            while True:
                event = child.next_json(deadline)
                if event is None:
                    _, err = child.finish()
                    pytest.fail(f"{point.name}: the child ended before the kill point: {err}")
                if "progress" not in event:
                    continue
                if missing_at_start is None:
                    missing_at_start = int(event["total"])
                done = int(event["progress"])
                if (point.until_total and done == event["total"]) or (
                    not point.until_total and done >= point.min_done
                ):
                    break
            time.sleep(rng.uniform(*point.delay_s))
            child.kill()
        entry = {"kill": point.name, "missing_at_start": missing_at_start, "done_at_kill": done}
        log.append(entry)
        print(entry)
        if total is None:
            total = missing_at_start  # the first start embeds everything
        elif not point.rebuild:
            # What the killed child reported written was kept: the fresh start only embeds
            # the rest (a store it had to rebuild would start from all of them).
            assert missing_at_start is not None
            assert missing_at_start <= total - persisted_at_least, entry
        persisted_at_least = done

    with reaped(index_child(script, env, "--verify")) as child:
        final, err = child.finish()
    print({"final": final})
    assert final.get("done"), err
    assert total is not None
    assert final["total"] == final["count"] == total
    if final["repaired"] is None:
        assert final["embedded"] <= total - persisted_at_least
    assert final["ids_match"]
    assert final["self_hits"] == total
    assert final["min_cosine_fresh_vs_stored"] > 0.999
    assert final["golden"] == [True] * len(GOLDEN)


# --------------------------------------------------------------------------- b. kill -9 mid-save

SAVE_CHILD = r"""
import json, random, sys
from datetime import UTC, datetime
from pathlib import Path
from advisor.chat import Conversation, Message, Role
from advisor.conversations import ConversationStore

store = ConversationStore(Path(sys.argv[1]))
rng = random.Random(int(sys.argv[2]))
owners = sys.argv[3:]
current = {}
for owner in owners:
    listed = store.list(owner)
    current[owner] = store.load(owner, listed[0].id) if listed else Conversation()
print(json.dumps({"ready": True}), flush=True)
while True:
    owner = rng.choice(owners)
    conversation = current[owner]
    if conversation.user_turns >= 30:
        conversation = current[owner] = Conversation()
    turn = conversation.user_turns + 1
    marker = f"[{owner}/{conversation.id}/{turn}]"
    words = rng.randint(200, 4000)
    padding = " ".join(rng.choice(["pear", "plum", "fig", "kiwi"]) for _ in range(words))
    now = datetime.now(UTC)
    for role, text in ((Role.USER, marker + " " + padding), (Role.ASSISTANT, marker + " ok")):
        conversation.messages.append(Message(role=role, text=text, turn=turn, at=now))
    conversation.title = marker
    conversation.updated_at = now
    print(json.dumps({"saving": [owner, conversation.id, turn]}), flush=True)
    store.save(owner, conversation)
    print(json.dumps({"saved": [owner, conversation.id, turn]}), flush=True)
"""

OWNERS = ["owner-alpha-0123456789", "owner-bravo-0123456789", "owner-charlie-012345678"]


def check_conversations(db_path: Path, saved: dict[str, tuple[str, int]], inflight: Any) -> int:
    """The database after a kill: intact, every reported turn there, every row whole and
    only its owner's. Returns the number of rows."""
    from advisor.chat import Conversation, Role

    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT id, owner, body, json_valid(body) FROM conversations").fetchall()
    finally:
        db.close()
    stored: dict[str, int] = {}
    for conv_id, owner, body, valid in rows:
        assert valid == 1, f"partial JSON in {conv_id}"
        conversation = Conversation.model_validate_json(body)
        assert conversation.id == conv_id
        users = [m for m in conversation.messages if m.role is Role.USER]
        assert [m.turn for m in users] == list(range(1, len(users) + 1))
        for m in conversation.messages:
            assert m.text.startswith(f"[{owner}/{conv_id}/{m.turn}]"), "another owner's turn"
        stored[conv_id] = len(users)
    for conv_id, (_, turn) in saved.items():
        may_have = {turn}
        if inflight is not None and inflight[1] == conv_id:
            may_have.add(inflight[2])  # the killed save: all of it or none of it
        assert stored.get(conv_id) in may_have, (conv_id, turn, stored.get(conv_id))
    return len(rows)


def test_kill_9_during_conversation_saves_loses_no_reported_turn(tmp_path: Path) -> None:
    script = tmp_path / "save_child.py"
    script.write_text(SAVE_CHILD)
    db_path = tmp_path / "data" / "conversations.sqlite3"
    rng = random.Random(3)
    saved: dict[str, tuple[str, int]] = {}  # conversation id -> (owner, last turn reported)
    kills = mid_save = 0
    for run in range(10):
        child = spawn([str(script), str(db_path), str(run), *OWNERS], {})
        with reaped(child):
            deadline = time.monotonic() + CHILD_TIMEOUT_S
            assert child.next_json(deadline) == {"ready": True}, child.seen
            kill_at = time.monotonic() + rng.uniform(0.2, 1.5)
            inflight = None
            while time.monotonic() < kill_at:
                event = child.next_json(deadline)
                assert event is not None, child.process.stderr.read()  # type: ignore[union-attr]
                if "saving" in event:
                    inflight = event["saving"]
                else:
                    owner, conv_id, turn = event["saved"]
                    saved[conv_id] = (owner, turn)
                    inflight = None
            child.kill()
        # lines written before the kill that the pump had not handed over yet
        while (line := child.lines.get(timeout=5)) is not None:
            event = json.loads(line)
            if "saving" in event:
                inflight = event["saving"]
            else:
                owner, conv_id, turn = event["saved"]
                saved[conv_id] = (owner, turn)
                inflight = None
        kills += 1
        mid_save += inflight is not None
        rows = check_conversations(db_path, saved, inflight)
    turns = sum(turn for _, turn in saved.values())
    print({"kills": kills, "killed_inside_a_save": mid_save, "turns_saved": turns, "rows": rows})
    assert turns > 20
    assert rows == len(saved)


# --------------------------------------------------------------------------- c. two processes

QUERY_CHILD = r"""
import json, sys, time
from pathlib import Path
from advisor.deps import build_deps
from advisor.retrieval import RetrievalMode

stop_file, probe_text, golden = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
deps = build_deps()
print(json.dumps({"ready": True, "count": deps.store.count()}), flush=True)
queries = errors = golden_ok = 0
kinds = {}
new_doc_seen = False
while True:
    stopping = stop_file.exists()
    for question, doc in golden:
        try:
            hits = deps.retriever.search(question, k=5, mode=RetrievalMode.DENSE)
            golden_ok += doc in [h.passage.doc_id for h in hits]
            raw = deps.store.query(probe_text, 3)
            new_doc_seen = new_doc_seen or any(pid.startswith("team-policy:") for pid, _ in raw)
        except Exception as exc:
            errors += 1
            kinds[type(exc).__name__] = str(exc)[:300]
        queries += 1
    if stopping:
        break
print(json.dumps({"queries": queries, "errors": errors, "kinds": kinds, "golden_ok": golden_ok,
                  "count_seen": deps.store.count(), "new_doc_seen": new_doc_seen}), flush=True)
"""

CLI_INDEX = "from advisor.cli import main; raise SystemExit(main(['index']))"
POLICY = (
    "---\nid: team-policy\ntitle: Our team policy\n---\n\n# Our team policy\n\n"
    "No training runs without a frozen golden set of 300 examples, signed off by the "
    "platform guild and the data protection officer.\n"
)


def test_two_processes_on_one_embedded_store(tmp_path: Path) -> None:
    """A holds the index lock (frozen mid-sync): B is refused after the lock timeout with a
    message naming server mode; C waits, and when A is killed it finishes A's index. Then a
    reader queries while a writer syncs a changed corpus: what holds is printed."""
    script = tmp_path / "index_child.py"
    script.write_text(INDEX_CHILD)
    corpus = big_corpus(tmp_path / "corpus", extra_docs=2)
    env = index_env(tmp_path / "data", corpus)

    # --- A holds the lock: it has written one batch and is frozen (SIGSTOP) inside its sync.
    with reaped(index_child(script, env)) as a:
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        while (event := a.next_json(deadline)) is not None and event.get("progress", 0) < BATCH:
            pass
        assert event is not None, a.seen
        total, written_by_a = int(event["total"]), int(event["progress"])
        os.kill(a.process.pid, signal.SIGSTOP)

        # B (the CLI) gives up after ADVISOR_INDEX_LOCK_TIMEOUT_S and says what to do.
        started = time.monotonic()
        b = subprocess.run(
            [sys.executable, "-c", CLI_INDEX],
            env={**os.environ, **env, "HF_HUB_OFFLINE": "1", "ADVISOR_INDEX_LOCK_TIMEOUT_S": "2"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
        b_seconds = time.monotonic() - started
        print({"B": b.returncode, "seconds": round(b_seconds, 1), "stderr": b.stderr.strip()})
        assert b.returncode == 1
        assert "Another advisor process has held the index" in b.stderr
        assert "ADVISOR_CHROMA_HOST" in b.stderr
        assert "ADVISOR_INDEX_LOCK_TIMEOUT_S" in b.stderr

        # C (default timeout) waits for the lock ...
        with reaped(index_child(script, env)) as c:
            assert c.next_json(deadline) == {"started": True}
            assert c.next_json(deadline) == {"lock": "waiting"}, c.seen
            # ... A dies holding it (the kernel releases a flock); C takes over and finishes.
            a.kill()
            c_final, c_err = c.finish()
    print({"C": c_final, "A wrote": written_by_a})
    assert c_final.get("done"), c_err
    assert c_final["count"] == c_final["total"] == total
    assert c_final["repaired"] is None
    assert c_final["embedded"] <= total - written_by_a

    # --- A reader (an app process) queries while a writer syncs a changed corpus.
    stop = tmp_path / "stop-reading"
    reader_script = tmp_path / "query_child.py"
    reader_script.write_text(QUERY_CHILD)
    probe = "frozen golden set of 300 examples signed off by the platform guild"
    reader = spawn([str(reader_script), str(stop), probe, json.dumps(GOLDEN)], env)
    with reaped(reader):
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        ready = reader.next_json(deadline)
        assert ready is not None, reader.process.stderr.read()  # type: ignore[union-attr]
        assert ready["count"] == total
        (corpus / "team-policy.md").write_text(POLICY)  # a new file, and a changed one
        roi = corpus / "roi-thresholds.md"
        roi.write_text(roi.read_text().replace("Final Takeaway", "Final Takeaway Revised"))
        with reaped(index_child(script, env)) as writer:
            w_final, w_err = writer.finish()
        time.sleep(2)  # the reader keeps querying after the writer is done
        stop.write_text("")
        r_final, r_err = reader.finish()
    print({"writer": w_final, "reader": r_final})
    assert w_final.get("done"), w_err
    assert r_final.get("queries"), r_err
    # What holds for a reader while another process writes (documented in the report):
    # it keeps answering from what it opened, without errors, and its golden questions
    # still hit; it does not see the other process's new passages until it restarts.
    assert r_final["errors"] == 0, r_final["kinds"]
    assert r_final["golden_ok"] == r_final["queries"]

    # A fresh start after both: the store is whole and the change is searchable.
    with reaped(index_child(script, env, "--verify")) as final_child:
        final, err = final_child.finish()
    print({"final": final})
    assert final.get("done"), err
    assert final["embedded"] == 0
    assert final["count"] == final["total"] == w_final["total"]
    assert final["ids_match"]
    assert final["self_hits"] == final["total"]
    assert final["golden"] == [True] * len(GOLDEN)
