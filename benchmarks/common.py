"""What every benchmark script here shares: percentiles, a latency summary, writing results.

Scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and they
import it as ``common``. Loopback servers are started with ``tests/fault_server.py``
(``free_port``, ``serving``, ``streamlit_command``), the same helpers the tests use.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # for `tests.fault_server`
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def summary(values: list[float]) -> dict[str, float]:
    """Count, p50 and p95 in milliseconds of durations given in seconds."""
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
    }


def write_result(result: dict[str, Any], out: Path | None) -> None:
    """Print ``result`` as JSON, and write it to ``out`` when given."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")


def machine() -> dict[str, Any]:
    """What the numbers were measured on, read off this machine (not assumed). Call it before
    the run, so the load average says how busy the machine was with other work."""
    load = round(os.getloadavg()[0], 2)  # first: the imports below take a few seconds
    import chromadb
    import torch

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux
        pass
    return {
        "arch": platform.machine(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "chromadb": chromadb.__version__,
        "torch": torch.__version__,
        # Other work on the machine skews timings.
        "load_average_1m_before_run": load,
    }


def require_chromium(path: str) -> None:
    """Stop with the fix named when Debian's chromium (driven by Playwright) is missing."""
    if not Path(path).exists():
        raise SystemExit(
            f"This benchmark drives Debian's chromium, which is not at {path}: "
            "install it with `apt-get install chromium` (as .ci/run does)."
        )
