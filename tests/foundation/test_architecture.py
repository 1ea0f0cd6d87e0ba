"""The house's shape, checked: the domains form a chain, imports stay at the top, services never commit.

`python scripts/domain_arrows.py` prints the same figures for a person.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def _arrows_module():
    spec = importlib.util.spec_from_file_location("domain_arrows", ROOT / "scripts" / "domain_arrows.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_domains_form_a_chain_without_loops():
    arrows = _arrows_module()
    order = {name: i for i, name in enumerate(arrows.DOMAINS)}
    against = []
    for path in sorted(APP.rglob("*.py")):
        here = arrows.domain_of(arrows.module_name(path))
        for name, line, _in_function, _explained in arrows.imports(path):
            there = arrows.domain_of(name)
            if here and there and order[there] > order[here]:
                against.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not against, "imports against the chain " + " <- ".join(arrows.DOMAINS) + ":\n" + "\n".join(against)


def test_imports_inside_functions_say_why():
    arrows = _arrows_module()
    hidden = sorted({
        f"{path.relative_to(ROOT)}:{line}"
        for path in APP.rglob("*.py")
        for name, line, in_function, explained in arrows.imports(path)
        if in_function and name.startswith("app") and not explained
    })
    assert not hidden, "imports inside functions without a comment saying why:\n" + "\n".join(hidden)


# Who may end a transaction: the request (views), the job runner and its jobs, the demo loader,
# the outbox's delivery (it records what was sent as it goes), and the one way views run services.
MAY_COMMIT = re.compile(r"(^|/)(views|\w+_views|jobs|demo|refusals|email)\.py$")


def test_only_views_jobs_and_commands_commit():
    committing = sorted(
        str(path.relative_to(ROOT))
        for path in APP.rglob("*.py")
        if ".commit()" in path.read_text() and not MAY_COMMIT.search(str(path))
    )
    assert not committing, "services add and flush; the caller commits:\n" + "\n".join(committing)


def test_views_read_through_queries():
    building = sorted(
        str(path.relative_to(ROOT))
        for path in APP.rglob("*.py")
        if re.search(r"(^|/)(views|\w+_views)\.py$", str(path)) and "select(" in path.read_text()
    )
    assert not building, "views call a domain's queries.py (or a service); they build no query:\n" + "\n".join(building)


def test_no_domain_imports_the_api():
    # app/api sits outside the chain (as app/operations does): it may read every domain, so a domain
    # importing it would make a loop through it.
    arrows = _arrows_module()
    into = sorted(
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in APP.rglob("*.py")
        if arrows.domain_of(arrows.module_name(path))
        for name, line, _in_function, _explained in arrows.imports(path)
        if name == "app.api" or name.startswith("app.api.")
    )
    assert not into, "domains import nothing outside the chain:\n" + "\n".join(into)
