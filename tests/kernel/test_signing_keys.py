"""Signing keys: never a constant of the code; generated once per data folder, or required."""
from __future__ import annotations

import json
import stat

import pytest

from ecom_project.config import ConfigError
from ecom_project.signing_keys import KEY_FILE_NAME, MIN_KEY_BYTES, signing_keys
from tests.support import manage


@pytest.fixture
def no_key_env(monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)


def test_keys_are_generated_once_per_data_folder_owner_only(tmp_path, no_key_env):
    first = signing_keys(data_dir=tmp_path / "a", from_env_only=False)
    again = signing_keys(data_dir=tmp_path / "a", from_env_only=False)
    other = signing_keys(data_dir=tmp_path / "b", from_env_only=False)
    assert first == again, "a restart keeps its keys (sessions and tokens survive it)"
    assert first["JWT_SECRET"] != other["JWT_SECRET"] and first["DJANGO_SECRET_KEY"] != other["DJANGO_SECRET_KEY"]
    assert first["JWT_SECRET"] != first["DJANGO_SECRET_KEY"]
    assert all(len(value.encode()) >= MIN_KEY_BYTES for value in first.values())
    key_file = tmp_path / "a" / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text()) == first


def test_environment_keys_win_and_production_requires_them(tmp_path, monkeypatch, no_key_env):
    with pytest.raises(ConfigError, match="DJANGO_SECRET_KEY and JWT_SECRET must be set in production"):
        signing_keys(data_dir=tmp_path, from_env_only=True)
    assert not (tmp_path / KEY_FILE_NAME).exists(), "production never writes keys to disk"
    monkeypatch.setenv("JWT_SECRET", "j" * 40)
    keys = signing_keys(data_dir=tmp_path, from_env_only=False)
    assert keys["JWT_SECRET"] == "j" * 40 and len(keys["DJANGO_SECRET_KEY"]) >= MIN_KEY_BYTES


def test_a_damaged_key_file_is_one_readable_line(tmp_path, no_key_env):
    (tmp_path / KEY_FILE_NAME).write_text("{not json")
    with pytest.raises(ConfigError, match="delete it to generate new keys"):
        signing_keys(data_dir=tmp_path, from_env_only=False)


def test_debug_is_off_unless_asked_for(tmp_path):
    probe = "from django.conf import settings; print(settings.DEBUG)"
    off = manage("shell", "-c", probe, env={"DEBUG": "", "DATA_DIR": str(tmp_path)})
    on = manage("shell", "-c", probe, env={"DEBUG": "true", "DATA_DIR": str(tmp_path)})
    assert off.stdout.split()[-1:] == ["False"], off.stderr
    assert on.stdout.split()[-1:] == ["True"], on.stderr
