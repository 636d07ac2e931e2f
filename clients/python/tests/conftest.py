"""The tests run against a real incidentdb (tests/pyclient.sh starts one):

    INCIDENTDB_BASE   its base URL
    INCIDENTDB_TOKEN  an admin key
    INCIDENTDB_BIN    the binary, to start a second, rate-limited server on the same database
    INCIDENTDB_DATABASE_URL  that database
    INCIDENTDB_SHARED the shared folder with datasets/ucdp_dev.csv (default: ../shared beside
                      the repository)
"""

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from incidentdb import Client

REPO = Path(__file__).resolve().parents[3]


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run tests/pyclient.sh, which starts a server")
    return value


@pytest.fixture(scope="session")
def base():
    return _env("INCIDENTDB_BASE")


@pytest.fixture(scope="session")
def token():
    return _env("INCIDENTDB_TOKEN")


@pytest.fixture
def client(base, token):
    return Client(base, token=token)


@pytest.fixture
def tag():
    """A word no other test's incidents carry, to filter on (`q`) and to name datasets."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def shared():
    return Path(os.environ.get("INCIDENTDB_SHARED") or REPO.parent / "shared")


@pytest.fixture(scope="session")
def limited_base():
    """A second server on the same database allowing one request a second (burst 1)."""
    binary = _env("INCIDENTDB_BIN")
    database = _env("INCIDENTDB_DATABASE_URL")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=database, BIND=f"127.0.0.1:{port}",
               INCIDENTDB_RATE_LIMIT="1", INCIDENTDB_RATE_LIMIT_BURST="1", RUST_LOG="warn")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None:
                pytest.fail("the rate-limited server stopped: " + server.stderr.read().decode())
            time.sleep(0.1)
        else:
            pytest.fail("the rate-limited server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(10)
