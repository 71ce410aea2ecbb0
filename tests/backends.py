"""Real servers for the scale-out tests: PostgreSQL and Chroma on loopback, once per session.

- ``postgres_server``: Debian's PostgreSQL (``/usr/lib/postgresql/*/bin``) in a temporary data
  folder on 127.0.0.1 and a free port, with password (SCRAM) authentication over TCP. As root it
  runs as the ``postgres`` system user (postgres refuses root). ``postgres_url`` is a fresh,
  empty database on it for each test.
- ``chroma_server``: ``chroma run`` (from the venv) on a free port, up once its heartbeat
  answers.
- ``conversation_store``: a factory of :class:`~advisor.conversations.ConversationStore`
  parametrized over SQLite and PostgreSQL (calling it again is "a server restart").

Under ``CI=true`` a server that cannot start fails its tests; elsewhere a missing PostgreSQL
installation skips them with the reason.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_USER = "advisor"
PG_PASSWORD = "s3cret-Pa55word"  # a throwaway test server's password
_databases = itertools.count(1)


def _unavailable(reason: str) -> None:
    """Fail under CI (the backend tests must run there), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def postgres_bindir() -> Path | None:
    """The newest Debian PostgreSQL's bin folder, or a PATH that has initdb."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@{self.host}:{self.port}/{database}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None:
        _unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    assert bindir is not None
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run PostgreSQL as")
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    base = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    if run_as:
        os.chown(base, run_as["user"], run_as["group"])
    pwfile = base / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if run_as:
        os.chown(pwfile, run_as["user"], run_as["group"])
    data = base / "data"
    initdb = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_USER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        check=False,
        **run_as,
    )
    if initdb.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"initdb failed: {initdb.stderr[-2000:]}")
    port = free_port()
    log = base / "postgres.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(base),  # its Unix socket stays in the temporary folder
                "-c",
                "fsync=off",  # a throwaway server: durability is not under test here
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            **run_as,
        )
    server = PostgresServer("127.0.0.1", port, PG_USER, PG_PASSWORD)
    try:
        _wait_for_postgres(server, process, log)
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # "fast" shutdown: it does not wait for clients
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_postgres(server: PostgresServer, process: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    started = time.monotonic()
    while True:
        if process.poll() is not None:
            _unavailable(f"PostgreSQL exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            pass
        if time.monotonic() - started > 30:
            _unavailable(f"PostgreSQL did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database on the session's server (password in the URL)."""
    import psycopg

    name = f"advisor_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    return postgres_server.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def conversation_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Any]:
    """``make()`` opens the same conversation store again each call: SQLite in ``tmp_path``,
    or one PostgreSQL database."""
    from advisor.conversations import ConversationStore

    if request.param == "sqlite":
        path = tmp_path / "c.sqlite3"
        return lambda: ConversationStore(path)
    url = request.getfixturevalue("postgres_url")
    return lambda: ConversationStore.from_url(url)


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    chroma = VENV_BIN / "chroma"
    if not chroma.exists():
        found = shutil.which("chroma")
        if found is None:
            _unavailable("the chroma command is not installed (pip install chromadb)")
        chroma = Path(str(found))
    base = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--path", str(base / "db")]
    with serving(
        "chroma",
        command,
        f"http://127.0.0.1:{port}/api/v2/heartbeat",
        base / "chroma.log",
        timeout_s=60,
    ):
        yield ChromaServer("127.0.0.1", port)


_collections = itertools.count(1)


def server_settings(make_settings: Callable[..., Any], server: ChromaServer) -> Callable[..., Any]:
    """``make_settings`` for the Chroma server: one collection prefix per call of this function,
    so tests sharing the server never share a collection."""
    prefix = f"t{os.getpid()}x{next(_collections)}"

    def make(**overrides: object) -> Any:
        values: dict[str, object] = {
            "chroma_host": server.host,
            "chroma_port": server.port,
            "collection_prefix": prefix,
        }
        values.update(overrides)
        return make_settings(**values)

    return make


@pytest.fixture(params=["embedded", "chroma-server"])
def store_settings(request: pytest.FixtureRequest, make_settings: Any) -> Callable[..., Any]:
    """``make_settings`` parametrized over the embedded store and the Chroma server."""
    if request.param == "embedded":
        return make_settings  # type: ignore[no-any-return]
    return server_settings(make_settings, request.getfixturevalue("chroma_server"))


@pytest.fixture(scope="session")
def server_deps(chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory, embed_model):  # type: ignore[no-untyped-def]
    """As ``shared_deps``, over the Chroma server: the shipped corpus, indexed once."""
    from advisor.corpus import load_corpus
    from advisor.retrieval import HybridRetriever
    from advisor.settings import load_settings
    from advisor.store import PassageStore

    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("server-data"),
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
        collection_prefix=f"shared{os.getpid()}",
    )
    corpus = load_corpus([settings.corpus_dir], target_chars=settings.passage_target_chars)
    store = PassageStore(settings, embed_model)
    store.sync(corpus)
    return HybridRetriever(corpus, store, settings)
