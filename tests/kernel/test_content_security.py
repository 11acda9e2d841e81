"""HTML pages carry a Content-Security-Policy that allows only the site's own scripts and styles."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from ecom_project.content_security import PAGE_POLICY

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="csp-ops", is_staff=True))
    return client


@pytest.mark.parametrize("path", ["/dashboard/", "/ops/", "/ops/orders/", "/ops/stock/", "/ops/dead-letters/",
                                  "/ops/consumers/"])
def test_pages_have_the_strict_policy_and_no_inline_script_or_style(staff, path):
    page = staff.get(path)
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == PAGE_POLICY
    assert "script-src 'self';" in PAGE_POLICY and "unsafe" not in PAGE_POLICY
    html = page.content.decode()
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert not inline_scripts and "<style" not in html and " style=" not in html, path


def test_the_login_page_has_it_and_json_answers_do_not_need_it():
    assert Client().get("/ops/login/")["Content-Security-Policy"] == PAGE_POLICY
    assert "Content-Security-Policy" not in Client().get("/health")
