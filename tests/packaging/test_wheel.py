"""The installed program works outside a checkout (docs/deploy.md): the wheel is built, installed
into a fresh virtualenv in a temporary directory, and from there `bihuan migrate`,
`bihuan demo` and `bihuan serve` run against this suite's database kind (SQLite, or
PostgreSQL with TEST_DATABASE_URL); the served app answers /healthz, /readyz, a page and a
static file. Nothing is imported from the checkout: the subprocesses run in the temporary
directory with the new virtualenv's interpreter.
"""

import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(out), str(ROOT)], cwd=out)
    (built,) = out.glob("bihuan-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtualenv with the wheel installed."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], cwd=venv)
    return venv / "bin"


def test_the_wheel_carries_migrations_templates_static_files_and_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "app/migrations/env.py" in names
    assert any(n.startswith("app/migrations/versions/") and n.endswith("_initial_schema.py")
               for n in names)
    assert "app/web/templates/base.html" in names
    assert "app/web/static/css/app.css" in names
    assert any(n.startswith("app/data/criteria/") and n.endswith(".csv") for n in names)
    # Migration 0025 reads the catalogue files: every one must be in the wheel.
    assert {f"app/data/criteria/catalogue/{p.name}"
            for p in (ROOT / "app/data/criteria/catalogue").glob("*.csv")} <= names
    if (ROOT / "app/web/static/vendor/echarts.min.js").is_file():  # built by `make install`
        assert "app/web/static/vendor/echarts.min.js" in names


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(installed: Path, fresh_url: str, tmp_path: Path) -> Iterator[str]:
    """`bihuan migrate && bihuan demo && bihuan serve`, from a directory of its own."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(work),
           "DATABASE_URL": fresh_url, "MEDIA_ROOT": str(work / "media"),
           "SECRET_KEY": "wheel-test-secret-key-0123456789abcdef", "BIHUAN_ENV": "dev"}
    assert "at the latest schema" in run(["bihuan", "migrate"], cwd=work, env=env)
    assert "demo county loaded" in run(["bihuan", "demo"], cwd=work, env=env)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(["bihuan", "serve", "--port", str(port)], cwd=work, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8", "replace")


def test_the_installed_program_migrates_loads_the_demo_and_serves_from_anywhere(
        served: str) -> None:
    assert get(f"{served}/healthz")[0] == 200
    status, body = get(f"{served}/readyz")
    assert status == 200, body
    status, page = get(f"{served}/login")
    assert status == 200 and "登录" in page
    assert get(f"{served}/static/css/app.css")[0] == 200
