"""The house rules a reviewer would otherwise have to remember (docs/architecture.md):

- imports point one way: pages and API → shared HTTP layer → domain services → access policy
  → models and the state machine → core;
- a domain's `schemas` module imports no service module (services convert to schemas, not the
  other way round);
- developer tooling (`app.devtools`) is reached only from the command line;
- only the access policy (`app.access`) compares roles, in Python and in templates.

Each checker is tried on a planted violation first, so a checker that finds nothing because
it is broken fails too.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# Lower ranks are imported by higher ones, never the reverse; equal ranks may import each
# other unless listed in SEPARATE.
RANKS: tuple[tuple[str, int], ...] = (
    ("app.core", 0),
    ("app.db", 0),  # the shim kept for a landed migration
    ("app.models", 1),
    ("app.workflow", 1),
    ("app.access", 2),
    ("app.services", 3),
    ("app.devtools", 4),
    ("app.http", 5),
    ("app.api", 6),
    ("app.web", 6),
    ("app.main", 7),
    ("app.worker", 7),
    ("app.cli", 7),
)
SEPARATE = (("app.api", "app.web"), ("app.web", "app.api"))
DEVTOOLS_USERS = ("app.cli", "app.devtools")


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> tuple[str, int] | None:
    for prefix, rank in RANKS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix, rank
    return None


def runtime_imports(tree: ast.Module, known: set[str]) -> Iterator[tuple[int, str]]:
    """(line, module) of every import that runs, i.e. not under `if TYPE_CHECKING:`."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield node.lineno, submodule if submodule in known else node.module


def import_violations(source: str, module: str, known: set[str]) -> list[str]:
    here = layer(module)
    found = []
    for line, target in runtime_imports(ast.parse(source), known):
        there = layer(target)
        if here is None or there is None or target == module:
            continue
        where = f"{module}:{line} imports {target}"
        if there[1] > here[1]:
            found.append(f"{where} (upward)")
        if (here[0], there[0]) in SEPARATE:
            found.append(f"{where} (pages and API share only app.http)")
        if there[0] == "app.devtools" and here[0] not in DEVTOOLS_USERS:
            found.append(f"{where} (developer tooling in product code)")
        if (module.endswith(".schemas") and target.startswith("app.services.")
                and not target.endswith(".schemas")):
            found.append(f"{where} (a schema imports a service)")
    return found


def role_comparisons(source: str) -> list[int]:
    """Lines comparing a role (`x.role == …`, `role in …`) in Python source; `role is None`
    (is a role given at all?) compares nothing."""

    def is_role(node: ast.expr) -> bool:
        return ((isinstance(node, ast.Attribute) and node.attr == "role")
                or (isinstance(node, ast.Name) and node.id == "role"))

    def is_none(node: ast.expr) -> bool:
        return isinstance(node, ast.Constant) and node.value is None

    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Compare)
            and any(is_role(operand) for operand in (node.left, *node.comparators))
            and not any(is_none(operand) for operand in (node.left, *node.comparators))]


TEMPLATE_ROLE_CHECK = re.compile(r"\brole\s*(==|!=|\bin\b|\bnot\s+in\b)")


def app_modules() -> dict[str, Path]:
    return {module_name(p): p for p in APP.rglob("*.py")}


def test_the_checkers_find_planted_violations() -> None:
    known = {"app.services.hazards.queries", "app.web.home"}
    assert import_violations("from app.services.hazards import queries\n",
                             "app.models.hazards", known)
    assert import_violations("from app.web import home\n", "app.api.hazards", known)
    assert import_violations("import app.devtools.scale\n", "app.services.org.demo", known)
    assert import_violations("from app.services.hazards.queries import x\n",
                             "app.services.board.schemas", known)
    assert not import_violations(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from app.services.hazards.queries import x\n", "app.services.board.schemas", known)
    assert role_comparisons("if actor.role == Role.admin:\n    pass\n") == [1]
    assert role_comparisons("ok = role in ALLOWED\n") == [1]
    assert role_comparisons("label = ROLE_LABELS[actor.role]\n") == []
    assert role_comparisons("missing = draft.role is None\n") == []
    assert TEMPLATE_ROLE_CHECK.search('{% if actor.role in ("committee",) %}')
    assert not TEMPLATE_ROLE_CHECK.search("{{ role_label(actor.role) }}")


def test_imports_point_one_way() -> None:
    modules = app_modules()
    known = set(modules)
    violations = [v for module, path in sorted(modules.items())
                  for v in import_violations(path.read_text(encoding="utf-8"), module, known)]
    assert violations == []


def test_every_module_has_a_layer() -> None:
    assert [m for m in app_modules() if m != "app" and layer(m) is None] == []


@pytest.mark.parametrize("folder", ["api", "web", "http", "services", "models", "workflow",
                                    "core", "devtools"])
def test_only_the_access_policy_compares_roles(folder: str) -> None:
    found = [f"{path.relative_to(APP.parent)}:{line}"
             for path in sorted((APP / folder).rglob("*.py"))
             for line in role_comparisons(path.read_text(encoding="utf-8"))]
    assert found == []


def test_templates_ask_the_access_policy() -> None:
    found = [f"{path.name}:{number}"
             for path in sorted((APP / "web" / "templates").rglob("*.html"))
             for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if TEMPLATE_ROLE_CHECK.search(text)]
    assert found == []
