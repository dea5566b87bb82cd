"""The CLI starts fast (issue 13, item 12): listing the commands imports no module's
commands, no application, no SQLAlchemy. Checked by what is imported, not by timing."""
from __future__ import annotations

import json
import subprocess
import sys

from crisis_ct.cli import COMMANDS, main

HEAVY = ("crisis_ct.app", "sqlalchemy", "flask_smorest", "flask", "crisis_ct.web_db")
_PROBE = """
import json, sys
from crisis_ct.cli import main
try:
    main(sys.argv[1:], prog_name="crisis-ct")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(*args: str) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120)
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_lists_every_command_without_importing_them():
    output, modules = _modules_after("--help")
    for name in COMMANDS:
        assert f"  {name} " in output
    assert not [name for name in HEAVY if name in modules]
    assert not [name for name in modules if name.startswith("crisis_ct.") and name not in
                ("crisis_ct.cli",)]


def test_users_help_imports_the_users_commands_only():
    output, modules = _modules_after("users", "--help")
    assert "reset-password" in output and "remove-role" in output
    assert not [name for name in HEAVY if name in modules]


def test_flask_development_commands_are_not_offered():
    output, _ = _modules_after("--help")
    for name in ("run", "shell", "routes"):
        assert f"  {name} " not in output
    done = subprocess.run([sys.executable, "-c", _PROBE, "--env-file", "x", "db", "upgrade"],
                          capture_output=True, text=True, timeout=120)
    assert "No such option '--env-file'" in done.stderr and "Traceback" not in done.stderr


def test_each_listed_help_line_is_the_commands_own():
    for name, (_, listed) in COMMANDS.items():
        command = main.get_command(None, name)
        assert command is not None and command.name == name
        assert listed == command.help.strip().splitlines()[0], name
