"""Unsubscribe tokens: an HMAC of the address the site can verify; the secret is required."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from magbuilder.deliver.tokens import SECRET_ENV, make_token, secret_from_env, verify
from magbuilder.errors import InputError

KEY = b"a-long-enough-secret-for-tests"


def test_token_is_the_documented_recipe():
    expected = hmac.new(KEY, b"ann@example.org", hashlib.sha256).digest()
    token = make_token("ann@example.org", KEY)
    assert token == base64.urlsafe_b64encode(expected).rstrip(b"=").decode()
    assert len(token) == 43
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_letter_case_and_spaces_do_not_change_the_token():
    assert make_token(" Ann@Example.ORG ", KEY) == make_token("ann@example.org", KEY)


def test_verify_accepts_the_token_and_refuses_others():
    token = make_token("ann@example.org", KEY)
    assert verify("ann@example.org", token, KEY)
    assert verify("ANN@example.org", token, KEY.decode())  # the site may hold the secret as text
    assert not verify("bob@example.org", token, KEY)
    assert not verify("ann@example.org", token, b"another-secret-of-length")
    assert not verify("ann@example.org", token[:-1] + ("A" if token[-1] != "A" else "B"), KEY)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_sending_refuses_without_the_secret(value):
    env = {} if value is None else {SECRET_ENV: value}
    with pytest.raises(InputError, match=SECRET_ENV) as caught:
        secret_from_env(env)
    assert "not set" in str(caught.value)


def test_a_short_secret_is_refused_without_repeating_it():
    with pytest.raises(InputError, match="too short") as caught:
        secret_from_env({SECRET_ENV: "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_secret_from_the_environment():
    assert secret_from_env({SECRET_ENV: "x" * 20}) == b"x" * 20
