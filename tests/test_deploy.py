"""deploy/: the systemd units pass `systemd-analyze verify` (on this checkout's paths), every
variable they read is in the example environment file, the reverse proxy answers 503 (which
Kobo retries) when no web host does, and docs/deploy.md covers every file."""
from __future__ import annotations

import getpass
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def installed_copy(unit: Path, tmp_path: Path) -> Path:
    """The unit as installed on this machine: this checkout for /opt/crisis-ct, this user."""
    env = tmp_path / "crisis-ct.env"
    env.write_text((DEPLOY / "crisis-ct.env.example").read_text())
    user = getpass.getuser()
    text = (unit.read_text().replace("/opt/crisis-ct", str(REPO)).replace("/etc/crisis-ct/crisis-ct.env", str(env))
            .replace("User=crisis-ct", f"User={user}").replace("Group=crisis-ct", "Group=root"))
    name = unit.name.replace("@.", "@1.")  # a template is verified as one of its instances
    copy = tmp_path / name
    copy.write_text(text)
    return copy


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_the_systemd_unit_verifies(unit, tmp_path):
    if not (REPO / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("no .venv in this checkout (make venv-test)")
    copy = installed_copy(unit, tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_units_read_only_variables_the_example_environment_sets():
    example = (DEPLOY / "crisis-ct.env.example").read_text()
    defined = set(re.findall(r"^#?([A-Z_][A-Z0-9_]*)=", example, re.M))
    for unit in UNITS:
        used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", unit.read_text()))
        assert used <= defined, f"{unit.name} reads {sorted(used - defined)}"
    assert {"CRISIS_CT_DATABASE_URL", "CRISIS_CT_SECRET_KEY", "CRISIS_CT_SECURE_COOKIES"} <= defined


def test_the_proxy_answers_503_when_no_web_host_does():
    conf = (DEPLOY / "nginx" / "crisis-ct.conf").read_text()
    assert re.search(r"error_page\s+502\s+504\s+=503", conf)
    assert "X-Forwarded-Proto" in conf and "listen 443 ssl" in conf


def test_the_guide_names_every_deploy_file_and_command():
    guide = (REPO / "docs" / "deploy.md").read_text()
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert str(path.relative_to(REPO)) in guide, f"docs/deploy.md does not mention {path.relative_to(REPO)}"
    for command in ("crisis-ct db upgrade", "crisis-ct db backup", "crisis-ct db restore", "crisis-ct jobs",
                    "systemctl", "/healthz"):
        assert command in guide
