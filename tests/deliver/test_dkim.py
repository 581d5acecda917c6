"""DKIM: every message that leaves (campaign, test copy, dry run) verifies; a change breaks it."""

from __future__ import annotations

import base64
import io
import logging
import re
import subprocess
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest

from magbuilder.deliver import SendOptions, parse_smtp_url, send_issue
from magbuilder.deliver.dkim import DkimSigner
from magbuilder.deliver.messages import load_content
from magbuilder.errors import InputError
from magbuilder.manifest import load_issue
from magbuilder.render.mime import preview_message

from ..conftest import manifest_text, review_text
from .conftest import SENDABLE_SITE, addresses, run_send, subscriber_rows, write_csv

SELECTOR, DOMAIN = "mb2026", "mag.example"  # the test site sends from news@mag.example
DKIM_SITE = SENDABLE_SITE + f"  dkim:\n    selector: {SELECTOR}\n    key_file: secrets/dkim.pem\n"
KEY_LINE = DKIM_SITE.splitlines().index("    key_file: secrets/dkim.pem") + 1
# What a receiver must find signed: RFC 6376's recommendations the message has, and the
# one-click unsubscribe pair (Gmail, Yahoo).
MUST_SIGN = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
}


@dataclass(frozen=True)
class Key:
    pem: bytes
    public: str  # base64 DER, the p= of the DNS record

    def dns(self, name: bytes, timeout: float = 5) -> bytes:
        """A resolver that knows one record: this key at <selector>._domainkey.<domain>."""
        if name.rstrip(b".") == f"{SELECTOR}._domainkey.{DOMAIN}".encode():
            return f"v=DKIM1; k=rsa; p={self.public}".encode()
        return b""


def openssl(*args: str, given: bytes = b"") -> bytes:
    return subprocess.run(["openssl", *args], input=given, capture_output=True, check=True).stdout


def make_key(*algorithm: str) -> Key:
    pem = openssl("genpkey", *algorithm)
    public = openssl("pkey", "-pubout", "-outform", "DER", given=pem)
    return Key(pem, base64.b64encode(public).decode())


RSA = ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")


@pytest.fixture(scope="module")
def key() -> Key:
    return make_key(*RSA)


@pytest.fixture(scope="module")
def other_key() -> Key:
    return make_key(*RSA)


def dkim_project(tmp_project, key: bytes | None, site: str = DKIM_SITE, **files: str) -> Path:
    project = tmp_project(
        {
            "magbuilder.yaml": site,
            "content/reviews/a.md": review_text("Alpha"),
            "issues/t-1.yaml": manifest_text(["a"]),
            **files,
        }
    )
    if key is not None:
        path = project / "secrets" / "dkim.pem"
        path.parent.mkdir()
        path.write_bytes(key)
        path.chmod(0o600)
    return project


def verifies(data: bytes, key: Key) -> bool:
    return dkim.verify(data, dnsfunc=key.dns)


def signature(data: bytes) -> dict[bytes, bytes]:
    message = message_from_bytes(data, policy=policy.compat32)
    value = re.sub(r"\s+", "", message["DKIM-Signature"]).encode()
    return dict(tag.split(b"=", 1) for tag in value.rstrip(b";").split(b";"))


def test_every_sent_message_verifies_and_any_change_breaks_it(
    tmp_project, key, other_key, server, smtp_url, secret
):
    project = dkim_project(tmp_project, key.pem)
    csv = write_csv(project, subscriber_rows(2))
    opts = SendOptions(subscribers=csv, smtp=parse_smtp_url(smtp_url, environ={}), rate=0)
    result = send_issue(project / "issues/t-1.yaml", opts, progress_stream=io.StringIO())
    assert result.exit_code == 0 and result.sent_now == 2
    received = server.raw()
    assert {rcpt for rcpt, _ in received} == addresses(2)
    for rcpt, data in received:
        assert data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
        tags = signature(data)
        assert (tags[b"d"], tags[b"s"]) == (DOMAIN.encode(), SELECTOR.encode())
        assert set(tags[b"h"].decode().split(":")) >= MUST_SIGN
        assert f"\r\nTo: {rcpt}\r\n".encode() in data  # each message signed as its own
        assert verifies(data, key)

        head, body = data.split(b"\r\n\r\n", 1)
        text = message_from_bytes(data, policy=policy.default).get_body(("plain",))
        assert "Dear Reader" in text.get_content()
        assert not verifies(head + b"\r\n\r\n" + body.replace(b"Dear", b"Deer", 1), key)
        assert not verifies(
            data.replace(b"\r\nSubject: Subject\r\n", b"\r\nSubject: Sale\r\n"), key
        )
        assert not verifies(data, other_key)
        # A second Subject: added on top (what some clients show) breaks it too: oversigned.
        assert not verifies(b"Subject: Sale\r\n" + data, key)


def test_the_test_copy_and_the_dry_run_are_signed_the_preview_is_not(
    tmp_project, key, server, smtp_url, secret
):
    project = dkim_project(tmp_project, key.pem)
    manifest = project / "issues/t-1.yaml"
    smtp = parse_smtp_url(smtp_url, environ={})
    send_issue(manifest, SendOptions(smtp=smtp, test_address="editor@mag.example"))
    [(_, test_copy)] = server.raw()
    assert b"\r\nSubject: [TEST] Subject\r\n" in test_copy
    assert verifies(test_copy, key)

    out = project / "out"
    csv = write_csv(project, subscriber_rows(2))
    result = send_issue(manifest, SendOptions(subscribers=csv, dry_run=out, smtp=None))
    assert len(result.written) == 2
    for path in result.written:  # exactly what would go out: it verifies as it is
        assert verifies(path.read_bytes(), key)

    content = load_content(manifest, secret.encode())
    preview = preview_message(content.issue, content.newsletter)
    assert b"DKIM-Signature" not in preview


def send_cli(project: Path):
    csv = write_csv(project, subscriber_rows(2))
    return run_send(project, "--subscribers", csv.name, "--dry-run", "out")


@pytest.mark.parametrize(
    ("key_text", "problem"),
    [
        (None, "does not exist: put the DKIM private key there, or make one with: openssl"),
        (b"SENTINEL not a key\n", "is not an RSA private key in PEM"),
    ],
)
def test_an_unusable_key_file_stops_send_at_its_settings_line(tmp_project, key_text, problem):
    project = dkim_project(tmp_project, key_text)
    result = send_cli(project)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"magbuilder.yaml:{KEY_LINE}: site.dkim.key_file: 'secrets/dkim.pem' {problem}"
    )
    assert "Traceback" not in result.stderr and "SENTINEL" not in result.stderr + result.stdout
    assert not (project / "out").exists()


def key_problem(project: Path) -> str:
    with pytest.raises(InputError) as caught:
        DkimSigner.from_issue(load_issue(project / "issues/t-1.yaml"))
    return caught.value.report()


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda k: openssl("pkey", "-pubout", given=k.pem), "is a public key"),
        (
            lambda k: openssl("pkey", "-aes256", "-passout", "pass:x", given=k.pem),
            "is protected by a passphrase",
        ),
        (lambda k: make_key("-algorithm", "ED25519").pem, "is an Ed25519 key"),
        (
            lambda k: make_key("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512").pem,
            "is a 512-bit key, which receivers ignore",
        ),
        (lambda k: bytes(range(256)), "is not a PEM private key"),
    ],
)
def test_what_is_wrong_with_a_key_file_is_named(tmp_project, key, make, problem):
    project = dkim_project(tmp_project, make(key))
    report = key_problem(project)
    assert report.startswith(f"magbuilder.yaml:{KEY_LINE}: site.dkim.key_file: ")
    assert problem in report


def test_a_key_set_in_the_manifest_is_reported_there_and_a_folder_is_not_a_key(tmp_project):
    own = '\n  dkim:\n    selector: "s1"\n    key_file: secrets'
    project = dkim_project(tmp_project, None)
    (project / "secrets").mkdir()
    manifest = project / "issues/t-1.yaml"
    manifest.write_text(manifest_text(["a"], site=own), "utf-8")
    line = manifest.read_text("utf-8").splitlines().index("    key_file: secrets") + 1
    assert key_problem(project) == (
        f"issues/t-1.yaml:{line}: site.dkim.key_file: 'secrets' is a folder: "
        "name the private key file in it"
    )


def test_a_readable_by_all_key_is_used_with_a_warning(tmp_project, key, caplog):
    project = dkim_project(tmp_project, key.pem)
    (project / "secrets/dkim.pem").chmod(0o644)
    with caplog.at_level(logging.WARNING):
        signer = DkimSigner.from_issue(load_issue(project / "issues/t-1.yaml"))
    assert signer is not None and signer.domain == DOMAIN and signer.bits == 2048
    assert f"magbuilder.yaml:{KEY_LINE}: warning: site.dkim.key_file: " in caplog.text
    assert "can be read by other users (mode 644): chmod 600 it" in caplog.text
    assert "PRIVATE" not in caplog.text and "PRIVATE" not in repr(signer)


@pytest.mark.parametrize(
    ("dkim_lines", "expected"),
    [
        (
            "    selector: mb2026\n    domain: other.example\n    key_file: k.pem\n",
            "{dkim}: site.dkim: domain 'other.example' is not the sender's domain 'mag.example'",
        ),
        ("    selector: mb_2026\n    key_file: k.pem\n", "{selector}: site.dkim.selector: is not"),
        ("    selector: mb2026\n    keyfile: k.pem\n", "{keyfile}: unknown key 'site.dkim.keyf"),
        ("    selector: mb2026\n", "{dkim}: missing required key 'site.dkim.key_file'"),
    ],
)
def test_dkim_settings_are_checked_with_the_build_at_their_line(tmp_project, dkim_lines, expected):
    site = SENDABLE_SITE + "  dkim:\n" + dkim_lines
    project = dkim_project(tmp_project, None, site=site)
    lines = {
        key: number
        for number, text in enumerate(site.splitlines(), start=1)
        if (key := text.strip().split(":")[0])
    }
    with pytest.raises(InputError) as caught:
        load_issue(project / "issues/t-1.yaml")
    found = [str(finding) for finding in caught.value.findings]
    assert any(f.startswith("magbuilder.yaml:" + expected.format(**lines)) for f in found), found
    assert all(f.startswith("magbuilder.yaml:") for f in found), found
