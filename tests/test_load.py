"""Concurrent users, for real: the app (`streamlit run app.py`, headless, loopback, a temporary
data dir) driven by one Debian chromium with 20 browser contexts (Playwright's async API),
each a separate user holding a three-turn conversation at the same time as the others.

Asserted: zero errors (no exception box, every turn answered) and zero cross-talk (each
session's transcript, verdict and facts are its own, and the conversation store holds exactly
one conversation per session, with only that session's messages). Reported, not asserted:
turn times (median, p95, max) and the server's peak RSS (VmHWM). Only a generous hard
timeout bounds the run; there is no assertion on speed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from .fault_server import free_port, serving, streamlit_command
from .test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = int(os.environ.get("LOAD_TEST_SESSIONS", "20"))
HARD_TIMEOUT_S = 1200.0
TURN_TIMEOUT_S = 600.0
ARTIFACTS = ROOT / "test-artifacts"
INPUT = "Describe your situation or ask a question"
NAMES = [
    "Aster", "Birch", "Cedar", "Dahlia", "Elm", "Fern", "Ginkgo", "Hazel", "Iris", "Juniper",
    "Kale", "Laurel", "Maple", "Nettle", "Olive", "Poppy", "Quince", "Rowan", "Sorrel", "Tansy",
]  # fmt: skip
#: A reply is on screen: as many messages as expected, the last one has text, input enabled.
TURN_DONE_JS = """
([count, placeholder]) => {
  const messages = document.querySelectorAll('[data-testid="stChatMessage"]');
  if (messages.length < count) return false;
  const last = messages[messages.length - 1].querySelector('[data-testid="stChatMessageContent"]');
  const box = document.querySelector(`textarea[placeholder="${placeholder}"]`);
  const text = last ? last.innerText.trim() : '';
  // the reply, not the bubble shown while the message waits (advisor/inbox.py)
  const waiting = text.includes('Working on it') || text.includes('Queued');
  return text.length > 0 && !waiting && !!box;
}
"""


@dataclass
class Session:
    """One simulated user; its team name and numbers appear nowhere else."""

    index: int
    owner: str = ""
    turn_seconds: list[float] = field(default_factory=list)
    transcript: str = ""
    page_text: str = ""

    @property
    def team(self) -> str:
        return f"Team {NAMES[self.index]}"

    @property
    def tickets_per_day(self) -> int:
        return 500_000 + 1_000 * (self.index + 1)

    @property
    def labeled(self) -> int:
        return 600 + 10 * self.index

    def messages(self) -> list[str]:
        return [
            f"{self.team}: we classify {self.tickets_per_day:,} support tickets a day into 12 "
            f"categories. No eval set yet, we eyeball outputs. We have about {self.labeled} "
            "labeled rows.",
            f"{self.team} again: about three weeks of prompt work, with few-shot examples.",
            f"{self.team} asks: how many examples do we need for LoRA?",
        ]


async def drive(browser: Any, url: str, session: Session) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
    )
    try:
        page = await context.new_page()
        await page.goto(url, timeout=HARD_TIMEOUT_S * 1000)
        box = page.get_by_placeholder(INPUT)
        await box.wait_for(timeout=HARD_TIMEOUT_S * 1000)
        for turn, message in enumerate(session.messages(), start=1):
            started = time.monotonic()
            await box.fill(message)
            await box.press("Enter")
            try:
                await page.wait_for_function(
                    TURN_DONE_JS, arg=[2 * turn, INPUT], polling=250, timeout=TURN_TIMEOUT_S * 1e3
                )
            except Exception as exc:
                ARTIFACTS.mkdir(exist_ok=True)
                shot = ARTIFACTS / f"load-{session.index}-turn-{turn}.png"
                await page.screenshot(path=str(shot), full_page=True)
                shown = await page.locator('[data-testid="stChatMessage"]').all_inner_texts()
                raise AssertionError(
                    f"{session.team}: turn {turn} not answered in {TURN_TIMEOUT_S:.0f} s "
                    f"({type(exc).__name__}); messages shown: {[t[:80] for t in shown]}; "
                    f"screenshot {shot}"
                ) from exc
            session.turn_seconds.append(time.monotonic() - started)
        session.owner = parse_qs(urlparse(page.url).query)["session"][0]
        messages = page.locator('[data-testid="stChatMessage"]')
        session.transcript = "\n".join(await messages.all_inner_texts())
        session.page_text = await page.locator("body").inner_text()
        exceptions = await page.locator('[data-testid="stException"]').count()
        errors = await page.locator('[data-testid="stAlertContentError"]').count()
        assert exceptions == errors == 0, f"{session.team}: an error box is shown"
    finally:
        await context.close()


async def run_sessions(url: str, sessions: list[Session], pid: int) -> tuple[float, float]:
    """Warm the server up with one page (it loads the model and the index), then run all
    sessions at once; returns the warm-up seconds and the server's CPU seconds after it."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            started = time.monotonic()
            warm = await browser.new_context()
            page = await warm.new_page()
            await page.goto(url, timeout=HARD_TIMEOUT_S * 1000)
            await page.get_by_placeholder(INPUT).wait_for(timeout=HARD_TIMEOUT_S * 1000)
            await warm.close()
            warm_up = time.monotonic() - started
            cpu = cpu_seconds(pid)
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(drive(browser, url, s) for s in sessions)), HARD_TIMEOUT_S
                )
            except TimeoutError as exc:
                done = {s.team: len(s.turn_seconds) for s in sessions}
                raise AssertionError(f"hard timeout; turns answered: {done}") from exc
            return warm_up, cpu_seconds(pid) - cpu
        finally:
            await browser.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    if importlib.util.find_spec("playwright") is None or not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("playwright or chromium is missing; .ci/run installs them")
        pytest.skip("playwright or Debian's chromium is not installed")
    with app_server(tmp_path_factory.mktemp("load-data")) as started:
        yield started


@contextmanager
def app_server(data: Path) -> Iterator[tuple[str, int, Path]]:
    """`streamlit run app.py` on a free loopback port over ``data``: (url, pid, data)."""
    port = free_port()
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data), "ADVISOR_LLM_PROVIDER": "none"}
    command = streamlit_command(ROOT / "app.py", port)
    url = f"http://127.0.0.1:{port}"
    log = data / "streamlit.log"
    with serving(
        "streamlit", command, f"{url}/_stcore/health", log, timeout_s=90, cwd=ROOT, env=env
    ) as server:
        yield url, server.pid, data


def run_load(url: str, pid: int, data: Path, sessions: int = SESSIONS) -> dict[str, Any]:
    """Drive ``sessions`` concurrent users, check them, and return the numbers."""
    users = [Session(i) for i in range(sessions)]
    started = time.monotonic()
    warm_up, server_cpu = asyncio.run(run_sessions(url, users, pid))
    wall = time.monotonic() - started - warm_up
    check_no_cross_talk(users, data / "conversations.sqlite3")
    times = [t for u in users for t in u.turn_seconds]
    return {
        "sessions": sessions,
        "turns_per_session": 3,
        "turns": len(times),
        "turn_s_median": round(percentile(times, 0.5), 2),
        "turn_s_p95": round(percentile(times, 0.95), 2),
        "turn_s_max": round(max(times), 2),
        "warm_up_s": round(warm_up, 1),
        "sessions_wall_s": round(wall, 1),
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_s_per_turn": round(server_cpu / len(times), 2),
        "server_peak_rss_mib": round(peak_rss_mib(pid), 1),
        "load_average_1m_after": os.getloadavg()[0],
    }


def check_no_cross_talk(users: list[Session], db_path: Path) -> None:
    from advisor.chat import Conversation, Role

    teams = {u.team for u in users}
    for user in users:
        assert len(user.turn_seconds) == 3, f"{user.team}: not every turn was answered"
        others = {t for t in teams if t != user.team}
        assert user.team in user.transcript
        # "Team Elm" is not a prefix of another name, so a substring test is exact.
        assert not [t for t in others if f"{t}:" in user.page_text or f"{t} " in user.page_text]
        assert "Verdict: NOT YET" in user.transcript
        assert "From the guidance articles" in user.transcript
        assert f"labeled examples: {user.labeled}" in user.page_text.lower()
        assert f"{30 * user.tickets_per_day:,}" in user.page_text
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT owner, body FROM conversations").fetchall()
    finally:
        db.close()
    by_owner: dict[str, list[Conversation]] = {}
    for owner, body in rows:
        by_owner.setdefault(owner, []).append(Conversation.model_validate_json(body))
    assert set(by_owner) == {u.owner for u in users}
    for user in users:
        (conversation,) = by_owner[user.owner]
        said = [m.text for m in conversation.messages if m.role is Role.USER]
        assert said == user.messages()
        replies = [m for m in conversation.messages if m.role is Role.ASSISTANT]
        assert len(replies) == 3
        text = json.dumps([m.text for m in conversation.messages])
        assert not [t for t in teams - {user.team} if f"{t}:" in text or f"{t} " in text]


def test_twenty_concurrent_sessions(app: tuple[str, int, Path]) -> None:
    url, pid, data = app
    numbers = run_load(url, pid, data)
    print("\nload test:", json.dumps(numbers))
    assert numbers["turns"] == 3 * SESSIONS
