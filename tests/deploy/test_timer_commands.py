"""The commands the service manager starts on a timer start without Django's system checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from kapstone.kernel.commands import OperationalCommand

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
# Services that start once and stay up: their one start is not worth a skipped check.
LONG_RUNNING = {"db_worker", "monitor_listener"}


def timer_commands() -> list[str]:
    named = set()
    for unit in UNITS.glob("*.service"):
        found = re.search(r"^ExecStart=\S*/kapstone (\w+)", unit.read_text(), re.MULTILINE)
        if found:
            named.add(found.group(1))
    return sorted(named - LONG_RUNNING)


def test_the_units_name_the_commands_this_test_knows():
    assert {"backup", "escalate_alerts", "send_notifications"} <= set(timer_commands())


@pytest.mark.parametrize("name", timer_commands())
def test_each_timer_command_is_operational(name):
    command = load_command_class(get_commands()[name], name)
    assert isinstance(command, OperationalCommand)
    assert command.requires_system_checks == []


def test_an_operational_command_starts_without_importing_the_views(tmp_path):
    """What the skipped checks cost: the URL configuration, and with it every app's views. The
    database is empty, so the command fails in its work: after the point where checks would run."""
    probe = (
        "import sys\n"
        "from django.db import OperationalError\n"
        "from kapstone.cli import main\n"
        "try:\n"
        "    main(['audit', 'verify'])\n"
        "except OperationalError:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('kapstone.') and m.endswith('views')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={
            "PATH": "/usr/bin:/bin",
            "KAPSTONE_DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_setting_a_timer_command_cannot_run_with_is_still_refused_by_name(tmp_path):
    """Skipping the system checks skips none of the settings' own refusals: they run on load."""
    done = subprocess.run(
        [sys.executable, "-c", "from kapstone.cli import main; main(['backup', '--help'])"],
        env={
            "PATH": "/usr/bin:/bin",
            "KAPSTONE_DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}",
            "KAPSTONE_DEMO_MODE": "perhaps",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert "KAPSTONE_DEMO_MODE must be a yes/no value, not 'perhaps'" in done.stderr
