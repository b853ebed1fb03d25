"""What can be checked of the image without a container engine (none on these machines): the
stages, the unprivileged user, the files copied exist and are in the build context, and the
context leaves out local state (docs/deploy.md)."""

import fnmatch
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
IGNORED = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
           if line.strip() and not line.startswith("#")]


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    parts = path.split("/")
    for pattern in IGNORED:
        bare = pattern.removeprefix("**/")
        if fnmatch.fnmatch(path, pattern) or any(
                fnmatch.fnmatch("/".join(parts[:i]), bare) or fnmatch.fnmatch(part, bare)
                for i, part in enumerate(parts, 1)):
            return True
    return False


def build_context() -> list[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return [path for path in tracked if not ignored(path)]


def test_three_stages_and_the_runtime_runs_unprivileged() -> None:
    steps = instructions()
    stages = [arg for op, arg in steps if op == "FROM"]
    assert [s.split()[-1] for s in stages[:2]] == ["charts", "wheel"]
    assert len(stages) == 3
    runtime = steps[[i for i, (op, _) in enumerate(steps) if op == "FROM"][-1]:]
    users = [arg for op, arg in runtime if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "HEALTHCHECK" for op, _ in runtime)
    command = next(arg for op, arg in reversed(runtime) if op == "CMD")
    assert "bihuan migrate" in command and "bihuan serve" in command
    assert "check-config" in command


def test_the_charts_are_built_into_the_wheel() -> None:
    steps = instructions()
    assert any(op == "COPY" and "--from=charts" in arg and "static/vendor" in arg
               for op, arg in steps)
    assert any(op == "RUN" and "npm ci" in arg for op, arg in steps)


def test_every_file_copied_from_the_context_exists_and_is_not_ignored() -> None:
    context = build_context()
    for op, arg in instructions():
        if op != "COPY" or arg.startswith("--from"):
            continue
        *sources, _ = arg.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not ignored(source), source
            assert any(p == source or p.startswith(f"{source}/") for p in context), source


def test_the_context_leaves_out_local_state() -> None:
    context = build_context()
    assert "app/main.py" in context and "migrations/env.py" in context
    for local in (".venv/bin/python", "var/bihuan.db", "node_modules/echarts/package.json",
                  "app/web/static/vendor/echarts.min.js", ".git/HEAD"):
        assert ignored(local), local
    assert not [p for p in context if p.startswith(("tests/", "bench/", ".ci/"))]
