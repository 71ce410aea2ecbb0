"""The ``advisor`` command line: index, search and evaluate the guidance corpus.

Every command works offline with the defaults. Errors print one clear line (and a hint
naming the fix) on stderr, never a traceback; exit status 1 for errors, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advisor import __version__
from advisor.errors import AdvisorError, QueryError, describe

EPILOG = """\
examples:
  advisor index                      build the index (first run) or bring it up to date
  advisor search "how many labeled examples do we need" -k 3
  advisor search "hosting cost" --json
  advisor eval retrieval             hit@1, hit@5 and MRR: hybrid vs BM25 vs dense
  advisor assess situation.txt       verdict, blockers, gate trace and next question
  echo '["We classify 500k posts/day", "No eval set yet"]' | advisor assess - --json
  advisor gates                      the decision gates and the sentences they come from
  advisor ask "We classify 500k tickets a day; no eval set yet"   one turn: cited verdict
  advisor ask "How many examples for LoRA?" --conversation talk.json   continue a conversation
  advisor chat                       a conversation in the terminal (/help for commands)

settings come from ADVISOR_* environment variables or a .env file; see README.md.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advisor",
        description=(
            "Fine-Tune Advisor: should we fine-tune a model? Deterministic, explained and "
            "cited answers from a corpus of guidance articles."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    index = sub.add_parser(
        "index",
        help="build or update the retrieval index from the corpus",
        description=(
            "Build the index on first use, or bring it in step with the corpus: only new or "
            "changed files are embedded; an unchanged corpus embeds nothing."
        ),
    )
    index.add_argument("--rebuild", action="store_true", help="drop the index and rebuild it")
    index.add_argument("--json", action="store_true", help="print the sync report as JSON")

    search = sub.add_parser(
        "search",
        help="find the passages of the corpus that answer a question",
        description="Hybrid search (BM25 + dense, rank-fused) over the corpus passages.",
    )
    search.add_argument("query", metavar="QUERY", help="the question or keywords")
    search.add_argument(
        "-k", type=int, default=5, metavar="N", help="number of passages (default 5)"
    )
    search.add_argument("--json", action="store_true", help="print a JSON array, best first")
    search.add_argument(
        "--mode",
        choices=["hybrid", "bm25", "dense"],
        default="hybrid",
        help="retriever to use (default hybrid)",
    )

    assess = sub.add_parser(
        "assess",
        help="verdict on a described situation: should we fine-tune?",
        description=(
            "Extract the facts from the messages, check them against the gates, and print the "
            "verdict with its trace. Input: a JSON array of user messages, or plain text (one "
            "message). No model and no index are used; the verdict is deterministic."
        ),
    )
    assess.add_argument(
        "file", nargs="?", default="-", metavar="FILE|-", help="input file, or - for stdin"
    )
    assess.add_argument("--json", action="store_true", help="print the assessment as JSON")

    ask = sub.add_parser(
        "ask",
        help="one turn of the conversation: a cited reply to a message",
        description=(
            "Send one message to the advisor and print its reply: the verdict with cited "
            "reasons for a situation, a quoted answer for a question. With --conversation, the "
            "turn continues (and is saved to) a conversation file."
        ),
    )
    ask.add_argument("message", metavar="MESSAGE", help="what you would type in the chat")
    ask.add_argument("--json", action="store_true", help="print the reply as JSON")
    ask.add_argument(
        "--conversation",
        type=Path,
        default=None,
        metavar="FILE",
        help="a conversation JSON file to continue and save (created if missing)",
    )

    chat = sub.add_parser(
        "chat",
        help="a conversation in the terminal",
        description="Talk to the advisor in the terminal. Type /help for commands.",
    )
    chat.add_argument(
        "--conversation",
        type=Path,
        default=None,
        metavar="FILE",
        help="a conversation JSON file to continue and save after every turn",
    )

    gates = sub.add_parser("gates", help="list the decision gates with their citations")
    gates.add_argument("--json", action="store_true", help="print the gates as JSON")

    evaluate = sub.add_parser(
        "eval",
        help="measure the advisor against golden sets (no suite: the whole scorecard)",
        description=(
            "With no suite: every score in one run (retrieval, decisions, extraction, answers, "
            "conversations, citations, turn latency), compared with evals/baseline.json; exits "
            "1 when a score falls below it."
        ),
    )
    evaluate.add_argument("--json", action="store_true", help="print the scorecard as JSON")
    evaluate.add_argument(
        "--update-baseline", action="store_true", help="write the scores to evals/baseline.json"
    )
    eval_sub = evaluate.add_subparsers(dest="suite", metavar="SUITE", required=False)
    retrieval = eval_sub.add_parser(
        "retrieval", help="hit@1, hit@5, MRR of hybrid vs BM25-only vs dense-only"
    )
    retrieval.add_argument("--json", action="store_true", help="print the scores as JSON")
    retrieval.add_argument("--golden", type=Path, default=None, help="golden set YAML file")
    decisions = eval_sub.add_parser(
        "decisions", help="verdict and blocker accuracy on golden conversations"
    )
    decisions.add_argument("--json", action="store_true", help="print the scores as JSON")
    extraction = eval_sub.add_parser(
        "extraction", help="per-fact precision and recall of the rules extractor"
    )
    extraction.add_argument("--json", action="store_true", help="print the scores as JSON")
    answers = eval_sub.add_parser(
        "answers", help="free questions: answered, quoted spans found, off-topic refused"
    )
    answers.add_argument("--json", action="store_true", help="print the scores as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from advisor.settings import load_settings

        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
        )
        handler = _COMMANDS[args.command]
        status = handler(args)
        sys.stdout.flush()  # inside the try, so a closed pipe is handled below
        return status
    except QueryError as exc:
        print(f"advisor: {describe(exc)}", file=sys.stderr)
        return 2
    except AdvisorError as exc:
        print(f"advisor: {describe(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("advisor: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `advisor eval extraction | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        print(f"advisor: {describe(exc)}", file=sys.stderr)
        return 1


# --------------------------------------------------------------------------- helpers


def _progress_bar() -> Any:
    """A progress callback that draws a bar on a terminal and stays quiet otherwise."""
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def progress(done: int, total: int, stage: str) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(
                total=total, desc=stage, unit="passage", file=sys.stderr, disable=None
            )
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def _deps(rebuild: bool = False) -> Any:
    from advisor.deps import build_deps

    deps = build_deps(rebuild=rebuild, progress=_progress_bar())
    report = deps.index_report
    if report.repaired:
        print(f"advisor: {report.repaired}", file=sys.stderr)
    for problem in report.problems:
        print(f"advisor: skipped {problem}", file=sys.stderr)
    return deps


def _require_query(query: str, max_chars: int) -> str:
    from advisor.retrieval import clean_query

    return clean_query(query, max_chars)


# --------------------------------------------------------------------------- commands


def cmd_index(args: argparse.Namespace) -> int:
    deps = _deps(rebuild=args.rebuild)
    r = deps.index_report
    if args.json:
        print(
            json.dumps(
                {
                    "collection": r.collection,
                    "location": deps.store.location,
                    "documents": len(deps.corpus.documents),
                    "passages": r.total_passages,
                    "embedded": r.embedded,
                    "deleted": r.deleted,
                    "changed_documents": list(r.added_docs),
                    "removed_documents": list(r.removed_docs),
                    "repaired": r.repaired,
                    "skipped": list(r.problems),
                    "corpus_version": deps.corpus.version,
                    "seconds": round(r.seconds, 3),
                },
                indent=2,
            )
        )
        return 0
    state = "up to date" if not r.changed else "updated"
    print(
        f"Index {state}: {r.total_passages} passages from {len(deps.corpus.documents)} "
        f"documents ({r.embedded} embedded, {r.deleted} removed) in {r.seconds:.1f} s."
    )
    print(f"Store: {deps.store.location} (collection {r.collection})")
    if r.added_docs:
        print("Changed: " + ", ".join(r.added_docs))
    if r.removed_docs:
        print("Removed: " + ", ".join(r.removed_docs))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from advisor.retrieval import RetrievalMode
    from advisor.settings import load_settings

    # Reject a bad query before paying for the model and the index.
    query = _require_query(args.query, load_settings().max_query_chars)
    if not 1 <= args.k <= 50:
        raise QueryError(f"-k must be between 1 and 50 (got {args.k}).")
    deps = _deps()
    hits = deps.retriever.search(query, k=args.k, mode=RetrievalMode(args.mode))
    if args.json:
        print(json.dumps([h.to_json() for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("No passage matches that query.")
        return 0
    for hit in hits:
        p = hit.passage
        print(f"[{hit.rank}] {p.title} — {p.section}  (score {hit.score:.4f}, {p.doc_id})")
        print(textwrap.indent(textwrap.fill(" ".join(p.text.split()), width=96), "    "))
        print()
    return 0


MAX_ASSESS_BYTES = 5 * 1024 * 1024
MAX_MESSAGES = 500


def read_messages(source: str) -> list[str]:
    """Messages from a file or stdin: a JSON array of strings, a JSON string, or plain text."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_ASSESS_BYTES + 1)
        else:
            with open(source, "rb") as handle:
                raw = handle.read(MAX_ASSESS_BYTES + 1)
    except FileNotFoundError as exc:
        raise AdvisorError(f"No such file: {source}.") from exc
    except OSError as exc:
        raise AdvisorError(f"Cannot read {source}: {exc.strerror or exc}.") from exc
    if len(raw) > MAX_ASSESS_BYTES:
        raise QueryError(
            f"The input is larger than {MAX_ASSESS_BYTES // 1_048_576} MB.",
            hint="Describe the situation in fewer words, or split it into messages.",
        )
    if b"\x00" in raw:
        raise QueryError("The input looks like a binary file, not text.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QueryError(
            "The input is not UTF-8 text.", hint="Save it as UTF-8 and retry."
        ) from exc
    if not text.strip():
        raise QueryError(
            "Nothing to assess: the input is empty.",
            hint='Describe your situation, e.g. "We classify 500k posts a day into 12 categories".',
        )
    stripped = text.lstrip()
    if stripped[:1] in '[{"':
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return [text]  # plain text that happens to start with a bracket
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            data = data["messages"]
        if isinstance(data, str):
            return [data]
        if isinstance(data, list) and all(isinstance(m, str) for m in data):
            if not data:
                raise QueryError("Nothing to assess: the JSON array of messages is empty.")
            if len(data) > MAX_MESSAGES:
                raise QueryError(f"Too many messages ({len(data)}); the limit is {MAX_MESSAGES}.")
            return list(data)
        raise QueryError(
            "JSON input must be an array of strings (the user's messages).",
            hint='For example: ["We classify 500k posts a day", "No eval set yet"].',
        )
    return [text]


def _titles() -> dict[str, str]:
    """doc_id -> title, read from the corpus files (no index, no model)."""
    try:
        from advisor.deps import read_corpus
        from advisor.settings import load_settings

        corpus = read_corpus(load_settings())
        return {d.doc_id: d.title for d in corpus.documents}
    except Exception:  # titles are decoration; the ids are still shown
        return {}


def cmd_assess(args: argparse.Namespace) -> int:
    from advisor.engine import assess
    from advisor.extraction import MAX_EXTRACT_CHARS
    from advisor.reading import replay
    from advisor.report import format_assessment
    from advisor.rules import load_rules
    from advisor.settings import load_settings

    messages = read_messages(args.file)
    if any(len(m) > MAX_EXTRACT_CHARS for m in messages):
        print(
            f"advisor: note: only the first {MAX_EXTRACT_CHARS:,} characters of a long message "
            "are read.",
            file=sys.stderr,
        )
    rules = load_rules(load_settings().rules_dir)
    # Read as the chat reads them: a terse reply answers the question asked before it.
    assessment = assess(replay(messages, rules).resolve(), rules)
    if args.json:
        print(json.dumps(assessment.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_assessment(assessment, _titles()))
    return 0


def cmd_gates(args: argparse.Namespace) -> int:
    from advisor.report import format_gates
    from advisor.rules import load_rules
    from advisor.settings import load_settings

    rules = load_rules(load_settings().rules_dir)
    if args.json:
        payload = {
            "rules_version": rules.version,
            "thresholds": rules.thresholds.model_dump(),
            "gates": [
                {
                    "id": g.id,
                    "topic": g.topic.value,
                    "title": g.title,
                    "question": g.question,
                    "condition": g.condition.model_dump(by_alias=True, exclude_defaults=True),
                    "citation": g.citations[0].model_dump(),
                    "citations": [c.model_dump() for c in g.citations],
                }
                for g in rules.gates
            ],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(format_gates(rules, _titles()))
    return 0


def _advisor() -> Any:
    from advisor.chat import Advisor

    return Advisor.from_deps(_deps())


def _load_conversation(path: Path | None) -> Any:
    from pydantic import ValidationError

    from advisor.chat import Conversation

    if path is None or not path.exists():
        return Conversation()
    try:
        return Conversation.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError) as exc:
        raise AdvisorError(
            f"{path} is not a conversation file this version can read.",
            hint="Pass another --conversation file, or delete it to start afresh.",
        ) from exc


def _save_conversation(conversation: Any, path: Path | None) -> None:
    if path is None:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(conversation.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, path)


def cmd_ask(args: argparse.Namespace) -> int:
    from advisor.chat import Advisor
    from advisor.report import format_reply
    from advisor.settings import load_settings

    conversation = _load_conversation(args.conversation)
    # Refuse a bad message before paying for the model and the index.
    Advisor.check_message_text(args.message, load_settings().max_message_chars)
    reply = _advisor().reply(conversation, args.message)
    _save_conversation(conversation, args.conversation)
    if args.json:
        print(json.dumps(reply.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_reply(reply))
    return 0


CHAT_HELP = """Describe your situation or ask a question. Commands:
  /facts              the facts I have read, and where each came from
  /set FACT VALUE     correct a fact (e.g. /set labeled_examples 2000, /set few_shot_used yes)
  /why                the full gate trace behind the verdict
  /new                start a new conversation
  /quit               leave (Ctrl-D works too)"""


def cmd_chat(args: argparse.Namespace) -> int:
    from advisor.chat import Reply
    from advisor.facts import SPECS
    from advisor.intents import parse_typed_value
    from advisor.report import format_assessment, format_facts, format_reply

    print("Fine-Tune Advisor. Loading the corpus and its index…", file=sys.stderr)
    advisor = _advisor()
    conversation = _load_conversation(args.conversation)
    streaming = advisor.llm is not None
    print("Describe your situation, or ask about fine-tuning. /help for commands.\n")
    while True:
        try:
            line = input("you> ")
        except EOFError:
            print()
            return 0
        command = line.strip()
        if not command:
            continue
        try:
            if command in ("/quit", "/exit"):
                return 0
            if command == "/help":
                print(CHAT_HELP)
            elif command == "/facts":
                print(format_facts(conversation.ledger.resolve()))
            elif command == "/why":
                print(format_assessment(advisor.assess(conversation), _titles()))
            elif command == "/new":
                conversation = type(conversation)()
                print("New conversation.")
            elif command.startswith("/set"):
                parts = command.split(maxsplit=2)
                if len(parts) != 3 or parts[1] not in SPECS:
                    print("Usage: /set FACT VALUE, with FACT one of: " + ", ".join(SPECS))
                    continue
                reply = advisor.correct(
                    conversation, parts[1], parse_typed_value(parts[1], parts[2])
                )
                print("\n" + format_reply(reply) + "\n")
            elif command.startswith("/"):
                print("Unknown command. /help lists them.")
            else:
                print("\nadvisor> ", end="", flush=True)
                final: Reply | None = None
                shown = ""
                for event in advisor.stream(conversation, line):
                    if isinstance(event, Reply):
                        final = event
                    elif streaming:
                        shown += event
                        print(event, end="", flush=True)
                assert final is not None
                if streaming and shown.strip() == final.text.strip():
                    print("\n\n" + format_reply(final, show_sources=True)[len(final.text) :])
                else:
                    if streaming:
                        print("\n")
                    print(format_reply(final) + "\n")
            _save_conversation(conversation, args.conversation)
        except AdvisorError as exc:
            print(f"advisor: {describe(exc)}")
        except KeyboardInterrupt:
            print("\n(interrupted; the conversation is unchanged)")


def cmd_eval(args: argparse.Namespace) -> int:
    if args.suite is None:
        return _eval_scorecard(args)
    if args.suite == "answers":
        return _eval_answers(args)
    if args.suite == "decisions":
        return _eval_decisions(args)
    if args.suite == "extraction":
        return _eval_extraction(args)
    from advisor.evaluation import (
        DEFAULT_RETRIEVAL_GOLDEN,
        HOLDOUT_RETRIEVAL_GOLDEN,
        evaluate_retrieval,
        format_table,
        load_golden,
        unanswerable,
    )

    paths = [args.golden] if args.golden else [DEFAULT_RETRIEVAL_GOLDEN, HOLDOUT_RETRIEVAL_GOLDEN]
    golden_sets = {path.stem: load_golden(path) for path in paths if path.exists() or args.golden}
    deps = _deps()
    payload: dict[str, Any] = {
        "suite": "retrieval",
        "corpus_version": deps.corpus.version,
        "passages": len(deps.corpus.passages),
        "sets": [],
    }
    for name, golden in golden_sets.items():
        missing = unanswerable(golden, deps.corpus)
        scores = evaluate_retrieval(deps.retriever, golden)
        payload["sets"].append(
            {
                "name": name,
                "questions": len(golden.questions),
                "unanswerable": missing,
                "scores": [s.to_json() for s in scores],
            }
        )
        if not args.json:
            print(
                f"{name}: {len(golden.questions)} questions over {len(deps.corpus.passages)} "
                f"passages (corpus {deps.corpus.version})"
            )
            print(format_table(scores))
            if missing:
                print(f"warning: no single passage holds the answer to: {', '.join(missing)}")
            print()
    if args.json:
        print(json.dumps(payload, indent=2))
    return 0


def _eval_decisions(args: argparse.Namespace) -> int:
    from advisor.decision_eval import (
        DECISIONS_GOLDEN,
        DECISIONS_SECOND_AUTHOR,
        load_decisions,
        score_decisions,
    )

    sets: list[dict[str, Any]] = []
    for path in (DECISIONS_GOLDEN, DECISIONS_SECOND_AUTHOR):
        score = score_decisions(load_decisions(path))
        sets.append(
            {
                "name": path.stem,
                "conversations": score.conversations,
                "verdict_accuracy": round(score.verdict_accuracy, 4),
                "blocker_accuracy": round(score.blocker_accuracy, 4),
                "failures": list(score.failures),
            }
        )
    if args.json:
        print(json.dumps({"suite": "decisions", "sets": sets}, indent=2))
        return 0
    for row in sets:
        print(
            f"{row['name']}: {row['conversations']} golden conversations: verdict accuracy "
            f"{row['verdict_accuracy']:.3f}, exact blockers {row['blocker_accuracy']:.3f}"
        )
        for failure in row["failures"]:
            print(
                f"  {failure['id']}: got {failure['verdict']} {failure['blockers']}, "
                f"expected {failure['expected_verdict']} {failure['expected_blockers']}"
            )
    return 0


def _eval_extraction(args: argparse.Namespace) -> int:
    from advisor.decision_eval import score_extraction

    score = score_extraction()
    total = score.totals()
    if args.json:
        print(
            json.dumps(
                {
                    "suite": "extraction",
                    "statements": score.statements,
                    "precision": round(total.precision, 4),
                    "recall": round(total.recall, 4),
                    "per_fact": [
                        {
                            "fact": f.fact,
                            "precision": round(f.precision, 4),
                            "recall": round(f.recall, 4),
                            "support": f.true_positive + f.false_negative,
                        }
                        for f in score.per_fact
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(
        f"extraction: {score.statements} labeled statements: precision {total.precision:.3f}, "
        f"recall {total.recall:.3f}"
    )
    print(f"  {'fact':<28} {'precision':>9} {'recall':>7} {'support':>8}")
    for f in score.per_fact:
        support = f.true_positive + f.false_negative
        print(f"  {f.fact:<28} {f.precision:>9.2f} {f.recall:>7.2f} {support:>8}")
    return 0


def _eval_scorecard(args: argparse.Namespace) -> int:
    from advisor.chat import Advisor
    from advisor.scorecard import (
        BASELINE,
        build_scorecard,
        format_scorecard,
        load_baseline,
        regressions,
        write_baseline,
    )

    deps = _deps()
    advisor = Advisor.from_deps(deps)
    advisor.llm = None  # the scorecard measures the deterministic path
    card = build_scorecard(deps.retriever, advisor)
    if args.update_baseline:
        write_baseline(card)
        print(f"Baseline written to {BASELINE}.", file=sys.stderr)
    baseline = load_baseline() if BASELINE.exists() else {}
    failed = regressions(card, baseline)
    if args.json:
        print(json.dumps({**card, "regressions": failed}, indent=2))
    else:
        print(format_scorecard(card, baseline))
    if failed:
        print("advisor: scores fell below the baseline: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def _eval_answers(args: argparse.Namespace) -> int:
    from advisor.qa_eval import load_questions, score_questions

    questions = load_questions()
    score = score_questions(_advisor(), questions)
    if args.json:
        print(json.dumps({"suite": "answers", **score.model_dump()}, indent=2))
        return 0
    counts = (
        f"{len(questions.answerable)} answerable, {len(questions.follow_ups)} follow-ups, "
        f"{len(questions.off_topic)} off-topic, {len(questions.unsupported)} unsupported"
    )
    print(f"answers: {counts}")
    rows = [
        ("answerable: answered", score.answered),
        ("answerable: quoted spans found", score.span_recall),
        ("answerable: expected article cited", score.doc_hit),
        ("follow-ups: answered", score.follow_up_answered),
        ("follow-ups: quoted spans found", score.follow_up_span_recall),
        ("off-topic: no sources given", score.off_topic_refused),
        ("unsupported: no sources given", score.unsupported_refused),
        ("replies whose markers map one-to-one", score.markers_one_to_one),
    ]
    for name, value in rows:
        print(f"  {name:<40} {value:6.3f}")
    return 0


_COMMANDS = {
    "index": cmd_index,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "search": cmd_search,
    "assess": cmd_assess,
    "gates": cmd_gates,
    "eval": cmd_eval,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
