"""One-time operator login links (what `make run` prints, as Jupyter prints its token URL)."""
from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from django.test import Client

from operations.login_links import LINK_SECONDS, login_token_create, login_token_user, operator_login_url

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_link_logs_the_operator_in_once_and_lands_on_the_dashboard():
    url = path_of(operator_login_url(base_url="http://testserver"))
    first = Client()
    landed = first.get(url, follow=True)
    assert landed.redirect_chain[-1][0] == "/dashboard/" and landed.status_code == 200
    assert first.get("/ops/").status_code == 200, "logged in as staff"
    again = Client().get(url, follow=True)
    assert again.redirect_chain[-1][0] == "/ops/login/"
    assert "expired or was used already" in again.content.decode()


def test_a_link_expires():
    url = operator_login_url(base_url="http://testserver")
    uid, token = url.rstrip("/").split("/")[-2:]
    assert login_token_user(uid, token) is not None
    assert login_token_user(uid, token, now=time.time() + LINK_SECONDS + 1) is None


@pytest.mark.parametrize("uid, token", [("MQ", "x"), ("!!", "1-abc"), ("MQ", "zzzzzzzzzzzzzzz-00"), ("", ""),
                                        ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk", "1-a")])
def test_forged_links_open_nothing(uid, token):
    operator_login_url(base_url="http://testserver")
    assert login_token_user(uid, token) is None


def test_a_link_never_opens_a_user_that_is_no_longer_staff(django_user_model):
    url = operator_login_url(base_url="http://testserver")
    django_user_model.objects.filter(username="operator").update(is_staff=False)
    assert Client().get(path_of(url)).url == "/ops/login/"


def test_the_command_prints_the_line(capsys):
    call_command("login_link", "--base-url", "http://127.0.0.1:8123")
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"operator login \(one-time, valid 15 min; opens the dashboard\): "
                        r"http://127\.0\.0\.1:8123/ops/login/link/\w+/[0-9a-z]+-[0-9a-f]{40}/", line), line


def test_login_without_next_lands_on_the_operator_pages(django_user_model):
    django_user_model.objects.create_user(username="ops-carol", password="s3cret-pass", is_staff=True)
    answer = Client().post("/ops/login/", {"username": "ops-carol", "password": "s3cret-pass"})
    assert answer.status_code == 302 and answer.url == "/ops/"


def test_a_token_for_another_user_state_does_not_match(django_user_model):
    user = django_user_model.objects.create_user(username="ops-dan", is_staff=True)
    token = login_token_create(user)
    user.set_password("changed")
    user.save()
    from django.utils.http import urlsafe_base64_encode
    assert login_token_user(urlsafe_base64_encode(str(user.pk).encode()), token) is None
