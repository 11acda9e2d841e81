"""issue_token and replay_dead_letters from the command line."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.support import manage

pytestmark = pytest.mark.django_db


def test_issue_token_creates_a_staff_user_and_prints_a_working_token(capsys, django_user_model):
    call_command("issue_token", "--username", "script-bot")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    user = django_user_model.objects.get(username="script-bot")
    assert user.is_staff and not user.has_usable_password()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/admin/dead-letters").status_code == 200
    call_command("issue_token", "--username", "script-bot")  # a second run reuses the user
    assert django_user_model.objects.filter(username="script-bot").count() == 1


@pytest.mark.parametrize("args", [(), ("--all", "--topic", "t"), ("--id",)])
def test_replay_command_bad_arguments_give_one_line_and_exit_2(args):
    result = manage("replay_dead_letters", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_replay_command_unknown_id_is_one_readable_line():
    result = manage("replay_dead_letters", "--id", "no-such-letter")
    assert result.returncode == 1 and result.stderr.strip() == "CommandError: No dead letter 'no-such-letter'."
