"""The companion's sign-in and settings views are not named ``views.py``, so the layer check of
tests/shell/test_layers.py would not see them: the same check, on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shell.test_layers import orm_use

COMPANION = Path(__file__).resolve().parents[2] / "src" / "kapstone" / "companion"


@pytest.mark.parametrize("module", ["signin.py", "account_views.py", "staff_views.py"])
def test_no_orm_in_the_companion_view_modules(module):
    path = COMPANION / module
    assert orm_use(path.read_text(), str(path)) == []


def test_the_check_catches_a_query():
    assert orm_use("def v(request):\n    return Thing.objects.filter(x=1)\n")
