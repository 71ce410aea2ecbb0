"""Concurrent users against the real app: the driver of tests/test_load.py, run as a benchmark.

    python benchmarks/load_test.py --sessions 20 --out benchmarks/results/load_test.json

Starts `streamlit run app.py` (headless, 127.0.0.1, a temporary data dir), warms it up with one
page, then drives N browser sessions at once (one Debian chromium, one context each), three
turns each, and checks every turn was answered with no error and no cross-talk (pages and the
conversation store). Prints and writes turn times, the server's CPU seconds and its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from common import machine, require_chromium

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.test_browser import CHROMIUM
from tests.test_load import app_server, run_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    require_chromium(CHROMIUM)
    with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp)) as (url, pid, data):
        numbers = run_load(url, pid, data, args.sessions)
    numbers = {
        "machine": machine(),
        **numbers,
    }
    print(json.dumps(numbers, indent=2))
    if args.out:
        args.out.write_text(json.dumps(numbers, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
