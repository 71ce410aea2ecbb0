"""Concurrent users against the real app: the driver of tests/test_load.py, run as a benchmark.

    python benchmarks/load_test.py --sessions 20 --out benchmarks/results/load_test.json

Starts `streamlit run app.py` (headless, 127.0.0.1, a temporary data dir), warms it up with one
page, then drives N browser sessions at once (one Debian chromium, one context each), three
turns each, and checks every turn was answered with no error and no cross-talk (pages and the
conversation store). Prints and writes turn times, the server's CPU seconds and its peak RSS.

It does that twice in one run: first with Streamlit's defaults for the two settings the shipped
`.streamlit/config.toml` changes (the baseline: source file watcher on, a full garbage
collection after every script run; set through Streamlit's environment variables, which win
over the config file), then with the shipped configuration; ratios are shipped ÷ baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from common import machine, require_chromium

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.test_browser import CHROMIUM
from tests.test_load import app_server, run_load

CONFIGURATIONS: dict[str, dict[str, str]] = {
    "Streamlit defaults (baseline: file watcher on, gc.collect(2) after every run)": {
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "auto",
        "STREAMLIT_RUNNER_POST_SCRIPT_GC": "true",
    },
    "shipped .streamlit/config.toml (fileWatcherType none, postScriptGC false)": {},
}
OVERRIDDEN = {key for overrides in CONFIGURATIONS.values() for key in overrides}
COMPARED = (
    "turn_s_median",
    "turn_s_p95",
    "sessions_wall_s",
    "server_cpu_s_per_turn",
    "server_peak_rss_mib",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    host = machine()  # before the run: its load average is other work's
    require_chromium(CHROMIUM)
    runs: dict[str, dict[str, Any]] = {}
    for name, overrides in CONFIGURATIONS.items():
        print(f"== {name}", flush=True)
        with mock.patch.dict(os.environ):
            for key in OVERRIDDEN:  # the caller's own settings would win over config.toml
                os.environ.pop(key, None)
            os.environ.update(overrides)
            with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp)) as (url, pid, data):
                runs[name] = run_load(url, pid, data, args.sessions)
        print(json.dumps(runs[name]), flush=True)
    baseline, shipped = runs.values()
    result = {
        "machine": host,
        "configurations": runs,
        "ratio_shipped_to_baseline": {
            key: round(shipped[key] / baseline[key], 2) for key in COMPARED if baseline[key]
        },
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
