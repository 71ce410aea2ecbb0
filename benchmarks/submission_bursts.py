"""Messages sent while a reply is pending: how many are lost or answered twice. Side by side.

Two apps are started the way ``tests/test_browser.py`` starts the app (``streamlit run``,
headless, a free loopback port, no LLM), each over its own data folder with the index built:

1. **baseline**: ``app.py`` as it was before the inbox (git revision ``BASELINE_REV``: a
   per-session queue answered inside the page's run, the input disabled while it is busy);
2. **inbox**: today's ``app.py`` (a submission recorded by the input's callback, answered in
   the background, advisor/inbox.py).

Each is driven by the same Playwright steps in Debian's chromium, ``--trials`` times per
pattern, a new browser context (a new conversation) each time:

- ``second after 1 s``: a message, then another one second later (issue 14's report);
- ``burst of 3``: three messages as fast as Playwright can fill the input and press Enter.

After the page has settled (nothing waiting, no change for 4 s), it is reloaded and the
transcript read: for each sent message, how often it appears (0 = lost, 2 = duplicated),
replies per message, and any error element seen at any time (Streamlit's exception box or
st.error, recorded by a MutationObserver).

    python benchmarks/submission_bursts.py [--trials 8] \
        [--out benchmarks/results/submission_bursts.json]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, machine, require_chromium, write_result

from tests.fault_server import free_port, serving, streamlit_command
from tests.test_browser import (
    _TRANSCRIPT_JS,
    _WATCH_ERRORS_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    WAITING,
)

BASELINE_REV = "4e11151"  # main before the inbox
PLACEHOLDER = "Describe your situation or ask a question"
PATTERNS: dict[str, list[float]] = {
    "second after 1 s": [0.0, 1.0],
    "burst of 3": [0.0, 0.0, 0.0],
}
MESSAGES = (
    "Trial {n}: we have {k}00 labeled examples.",
    "Trial {n}: how many examples for LoRA?",
    "Trial {n}: we serve about 2M requests a month.",
)


def settled(page: Any, timeout_s: float = 90.0) -> list[tuple[str, str]]:
    """The transcript once nothing waits and it has not changed for 4 s."""
    deadline = time.monotonic() + timeout_s
    last: list[Any] = []
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        shown = page.evaluate(_TRANSCRIPT_JS)
        if shown != last:
            last, stable_since = shown, time.monotonic()
        waiting = any(any(w in text for w in WAITING) for _, text in shown)
        if not waiting and time.monotonic() - stable_since > 4:
            break
        page.wait_for_timeout(250)
    return [(role, text) for role, text in last]


def trial(browser: Any, url: str, n: int, delays: list[float]) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.add_init_script(f"({_WATCH_ERRORS_JS})()")
    page.goto(url, timeout=180_000)
    box = page.get_by_placeholder(PLACEHOLDER)
    box.wait_for(timeout=180_000)
    sent = [MESSAGES[i].format(n=n, k=i + 1) for i in range(len(delays))]
    for message, delay in zip(sent, delays, strict=True):
        if delay:
            page.wait_for_timeout(delay * 1000)
        try:
            box.fill(message, timeout=5_000)
            box.press("Enter", timeout=5_000)
        except Exception:  # the input disabled (the baseline): the message cannot be sent
            pass
    settled(page)
    errors = list(page.evaluate("window.__errors || []"))
    page.reload()
    box.wait_for(timeout=60_000)
    shown = settled(page)
    errors += list(page.evaluate("window.__errors || []"))
    context.close()
    users = [text for role, text in shown if role == "user"]
    counts = [sum(u.endswith(m) for u in users) for m in sent]
    order_ok = [next((m for m in sent if u.endswith(m)), "") for u in users] == sent
    replies_ok = [r for r, _ in shown] == ["user", "assistant"] * len(sent)
    return {
        "appearances": counts,
        "lost": sum(c == 0 for c in counts),
        "duplicated": sum(c > 1 for c in counts),
        "in_order_one_reply_each": order_ok and replies_ok,
        "errors_seen": len(errors),
        "first_error": errors[0][:200] if errors else "",
    }


def run_app(label: str, script: Path, trials: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix=f"bursts-{label}-") as tmp:
        data = Path(tmp)
        env = {**os.environ, "ADVISOR_DATA_DIR": str(data), "ADVISOR_LLM_PROVIDER": "none"}
        subprocess.run(
            [sys.executable, "-m", "advisor.cli", "index"],
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = streamlit_command(script, port)
        out: dict[str, Any] = {}
        with (
            serving(
                label,
                command,
                f"{url}/_stcore/health",
                data / "st.log",
                timeout_s=120,
                cwd=ROOT,
                env=env,
            ),
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            for name, delays in PATTERNS.items():
                runs = [trial(browser, url, n, delays) for n in range(trials)]
                sent = trials * len(delays)
                out[name] = {
                    "trials": trials,
                    "messages_sent": sent,
                    "lost": sum(r["lost"] for r in runs),
                    "duplicated": sum(r["duplicated"] for r in runs),
                    "trials_with_errors": sum(r["errors_seen"] > 0 for r in runs),
                    "trials_all_right": sum(
                        r["in_order_one_reply_each"] and not r["errors_seen"] for r in runs
                    ),
                    "runs": runs,
                }
                print(
                    f"{label:8} {name:18} sent {sent:3}  lost {out[name]['lost']:2}  "
                    f"duplicated {out[name]['duplicated']:2}  trials with an error "
                    f"{out[name]['trials_with_errors']:2}  all right "
                    f"{out[name]['trials_all_right']}/{trials}",
                    flush=True,
                )
            browser.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    require_chromium(CHROMIUM)
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bursts-baseline-app-") as tmp:
        baseline = Path(tmp) / "app.py"
        shown = subprocess.run(
            ["git", "show", f"{BASELINE_REV}:app.py"], cwd=ROOT, check=True, capture_output=True
        )
        baseline.write_bytes(shown.stdout)
        # the baseline script imports the advisor package from the checkout
        os.environ["PYTHONPATH"] = str(ROOT)
        results = {
            "baseline": run_app("baseline", baseline, args.trials),
            "inbox": run_app("inbox", ROOT / "app.py", args.trials),
        }
    write_result(
        {
            "benchmark": "submission_bursts",
            "machine": info,
            "baseline_rev": BASELINE_REV,
            "results": results,
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
