"""The ``advisor`` command line: index, search and evaluate the guidance corpus.

Every command works offline with the defaults. Errors print one clear line (and a hint
naming the fix) on stderr, never a traceback; exit status 1 for errors, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
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

    evaluate = sub.add_parser("eval", help="measure the advisor against golden sets")
    eval_sub = evaluate.add_subparsers(dest="suite", metavar="SUITE", required=True)
    retrieval = eval_sub.add_parser(
        "retrieval", help="hit@1, hit@5, MRR of hybrid vs BM25-only vs dense-only"
    )
    retrieval.add_argument("--json", action="store_true", help="print the scores as JSON")
    retrieval.add_argument("--golden", type=Path, default=None, help="golden set YAML file")
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
        return handler(args)
    except QueryError as exc:
        print(f"advisor: {describe(exc)}", file=sys.stderr)
        return 2
    except AdvisorError as exc:
        print(f"advisor: {describe(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("advisor: interrupted.", file=sys.stderr)
        return 130
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


def cmd_eval(args: argparse.Namespace) -> int:
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


_COMMANDS = {"index": cmd_index, "search": cmd_search, "eval": cmd_eval}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
