"""Views translate; selectors read and services write (README, "How the shell is built").

An AST check over every app's ``views.py`` keeps the database out of views: any query or write found
there is listed as ``file:line  what`` so what is left is visible at a glance.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "kapstone"

# Calls that only a QuerySet, a manager or a model instance answers, whatever their arguments.
# (Python's own ``filter`` is a name, never an attribute, so ``x.filter(...)`` is always the ORM.)
QUERY_METHODS = frozenset(
    {
        "filter",
        "exclude",
        "select_related",
        "prefetch_related",
        "annotate",
        "aggregate",
        "alias",
        "order_by",
        "values_list",
        "only",
        "defer",
        "distinct",
        "select_for_update",
        "latest",
        "earliest",
        "in_bulk",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "create",
        "save",  # a model's or a ModelForm's save writes a row
        "refresh_from_db",
    }
)

# Names other types share; with no argument only the ORM means them: ``qs.count()`` but
# ``list.count(x)``, ``related.all()``, ``qs.exists()`` but ``os.path.exists(p)``, ``qs.first()``,
# ``instance.delete()`` but ``cache.delete(key)``.
QUERY_METHODS_WITHOUT_ARGUMENTS = frozenset({"all", "count", "exists", "first", "last", "delete"})

# ``qs.values("pk")`` names fields; ``dict.values()`` takes nothing.
QUERY_METHODS_WITH_ARGUMENTS = frozenset({"values"})

# Not checked, on purpose: ``get`` (``request.POST.get``, ``dict.get``) and ``update``
# (``context.update(key=...)``): a manager's or a queryset's ``get``/``update`` is reached through
# ``.objects`` or one of the calls above, which are flagged.

SHORTCUTS = frozenset({"get_object_or_404", "get_list_or_404"})


@dataclass(frozen=True)
class Offence:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}  {self.what}"


def _imported_names(tree: ast.Module) -> set[str]:
    """Modules and classes a view imports: their attributes are functions (``selectors.filter``)
    or class-level names, never a queryset's methods (a model's manager goes through ``.objects``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def _chain(node: ast.expr) -> str:
    """``a.b(x).c(y=1)`` as ``a.b().c()``: the chain of calls, without their arguments."""
    if isinstance(node, ast.Call):
        return f"{_chain(node.func)}()"
    if isinstance(node, ast.Attribute):
        return f"{_chain(node.value)}.{node.attr}"
    return ast.unparse(node)


def _receivers(node: ast.expr) -> list[ast.expr]:
    """The expressions a chain is built on: for ``a.b().c()`` the nodes ``a.b()``, ``a.b``, ``a``."""
    found: list[ast.expr] = []
    while isinstance(node, ast.Call | ast.Attribute):
        node = node.func if isinstance(node, ast.Call) else node.value
        found.append(node)
    return found


def orm_use(source: str, path: str = "<views>") -> list[Offence]:
    """Every place in ``source`` that queries or writes through the ORM, one entry per chain
    (``Patient.objects.filter().first()`` is one offence, named in full)."""
    tree = ast.parse(source)
    imported = _imported_names(tree)
    flagged: dict[ast.AST, str] = {}

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("django.db"):
            flagged[node] = f"imports from {node.module} (queries and transactions belong below)"
        elif isinstance(node, ast.Import) and any(
            a.name.startswith("django.db") for a in node.names
        ):
            flagged[node] = "imports django.db"
        elif isinstance(node, ast.Attribute) and node.attr == "objects":
            flagged[node] = f"{_chain(node)} (a model manager)"
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in SHORTCUTS:
                flagged[node] = f"{name}()"
                continue
            if not isinstance(func, ast.Attribute):
                continue
            if isinstance(func.value, ast.Name) and func.value.id in imported:
                continue
            has_arguments = bool(node.args or node.keywords)
            if (
                func.attr in QUERY_METHODS
                or (func.attr in QUERY_METHODS_WITHOUT_ARGUMENTS and not has_arguments)
                or (func.attr in QUERY_METHODS_WITH_ARGUMENTS and has_arguments)
            ):
                flagged[node] = _chain(node)

    # Report the outermost call of a chain only; what it is built on is part of the same query.
    covered = {
        id(inner) for node in flagged if isinstance(node, ast.expr) for inner in _receivers(node)
    }
    found = [
        Offence(path, getattr(node, "lineno", 0), what)
        for node, what in flagged.items()
        if id(node) not in covered
    ]
    return sorted(found, key=lambda o: (o.path, o.line, o.what))


def view_modules() -> list[Path]:
    return sorted([*SOURCE.glob("*/views.py"), *SOURCE.glob("*/views/**/*.py")])


def test_the_checker_flags_a_query_in_a_view():
    source = textwrap.dedent(
        """
        from django.shortcuts import get_object_or_404, render
        from kapstone.patients.models import Patient

        def registry(request, patient):
            found = Patient.objects.filter(mrn=request.GET.get("mrn"))
            sessions = patient.dosing_sessions.all()
            held = patient.holds.exists()
            plan = get_object_or_404(TreatmentPlan, pk=1)
            form.save()
            return render(request, "x.html", {"found": found, "n": sessions.count()})
        """
    )
    flagged = [(o.line, o.what) for o in orm_use(source)]
    assert flagged == [
        (6, "Patient.objects.filter()"),
        (7, "patient.dosing_sessions.all()"),
        (8, "patient.holds.exists()"),
        (9, "get_object_or_404()"),
        (10, "form.save()"),
        (11, "sessions.count()"),
    ]


def test_the_checker_leaves_translation_alone():
    source = textwrap.dedent(
        """
        import os
        from kapstone.patients import selectors, services

        def registry(request, patient):
            mrn = request.POST.get("mrn", "").strip()
            context = {"rows": selectors.filter(mrn=mrn), "n": "a,b".count(",")}
            context.update(title="Registry", first=selectors.first())
            services.create(by=request.user, mrn=mrn)
            for errors in exc.errors.values():
                pass
            os.path.exists("x")
            return render(request, "x.html", context)
        """
    )
    assert orm_use(source) == []


def test_the_checker_flags_the_database_module():
    source = "from django.db import connection\nfrom django.db.models import Count\n"
    assert [o.line for o in orm_use(source)] == [1, 2]


def test_no_view_touches_the_database():
    offences = [
        offence
        for path in view_modules()
        for offence in orm_use(path.read_text(), str(path.relative_to(SOURCE.parents[1])))
    ]
    listing = "\n".join(str(o) for o in offences)
    assert not offences, (
        f"{len(offences)} ORM uses in views; move reads to selectors, writes to services:\n{listing}"
    )
