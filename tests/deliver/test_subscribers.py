"""The subscriber CSV: bad rows reported with their line and skipped, duplicates sent once."""

from __future__ import annotations

import codecs

import pytest

from magbuilder.deliver.subscribers import read_subscribers
from magbuilder.errors import InputError


def write(tmp_path, text: str | bytes, name: str = "subs.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_valid_rows_with_name_and_merge_fields(tmp_path):
    path = write(tmp_path, "Email,Name,First Name,city\nann@example.org,Ann Lee,Ann,Oslo\n")
    result = read_subscribers(path)
    [ann] = result.subscribers
    assert ann.email == "ann@example.org"
    assert ann.name == "Ann Lee"
    assert ann.fields == {"first_name": "Ann", "city": "Oslo"}
    assert ann.line == 2
    assert ann.merge_values() == {"first_name": "Ann", "city": "Oslo", "name": "Ann Lee"}
    assert result.findings == []


def test_bad_rows_are_reported_with_their_line_numbers_and_skipped(tmp_path):
    text = (
        "email,name\n"  # 1
        "ok1@example.org,One\n"  # 2
        "not-an-address,Two\n"  # 3
        "\n"  # 4: blank, ignored
        ",Nobody\n"  # 5
        'ok2@example.org,"Multi\nline name"\n'  # 6-7
        "bad@@example.org,Three\n"  # 8
        "x@localhost,Four\n"  # 9
        "ok3@example.org,Five,extra,values\n"  # 10
        "ok4@example.org,Six\n"  # 11
    )
    result = read_subscribers(write(tmp_path, text), shown="subs.csv")
    assert [s.email for s in result.subscribers] == [
        "ok1@example.org",
        "ok2@example.org",
        "ok4@example.org",
    ]
    assert result.subscribers[1].name == "Multi line name"
    assert result.subscribers[2].line == 11
    messages = [str(f) for f in result.findings]
    assert [m.split(": ", 1)[0] for m in messages] == [
        "subs.csv:3",
        "subs.csv:5",
        "subs.csv:8",
        "subs.csv:9",
        "subs.csv:10",
    ]
    assert "'not-an-address' is not a valid address" in messages[0]
    assert "no email address" in messages[1]
    assert "4 values but the header names 2 columns" in messages[4]
    assert result.skipped == 5
    assert "3 subscribers, 5 rows skipped" in result.summary()


def test_duplicates_in_any_letter_case_are_sent_once(tmp_path):
    text = "email,name\nAnn@Example.org,First\nbob@example.org,Bob\nann@EXAMPLE.ORG,Second\n"
    result = read_subscribers(write(tmp_path, text), shown="subs.csv")
    assert [(s.email, s.name) for s in result.subscribers] == [
        ("Ann@example.org", "First"),
        ("bob@example.org", "Bob"),
    ]
    [finding] = result.findings
    assert str(finding) == (
        "subs.csv:4: warning: 'ann@example.org' is a duplicate of line 2: sent once"
    )
    assert result.duplicates == 1


def test_utf8_bom_and_crlf_from_spreadsheets(tmp_path):
    data = codecs.BOM_UTF8 + "email,name\r\nzoë@example.org,Zoë\r\n".encode().replace(
        "zoë@".encode(), b"zoe@"
    )
    [zoe] = read_subscribers(write(tmp_path, data)).subscribers
    assert (zoe.email, zoe.name) == ("zoe@example.org", "Zoë")


def test_utf16_with_bom_and_semicolons(tmp_path):
    data = "email;name\nann@example.org;Ann\n".encode("utf-16")
    [ann] = read_subscribers(write(tmp_path, data)).subscribers
    assert (ann.email, ann.name) == ("ann@example.org", "Ann")


def test_latin1_file_is_refused_with_line_and_remedy(tmp_path):
    data = "email,name\nann@example.org,Ann\nzoe@example.org,Zoë\n".encode("latin-1")
    with pytest.raises(InputError) as caught:
        read_subscribers(write(tmp_path, data), shown="subs.csv")
    report = caught.value.report()
    assert report.startswith("subs.csv:3: not UTF-8 (byte 0xeb at column 19)")
    assert "CSV UTF-8" in report


def test_no_email_column(tmp_path):
    with pytest.raises(InputError) as caught:
        read_subscribers(write(tmp_path, "mail_to,name\na@example.org,A\n"), shown="s.csv")
    assert caught.value.report() == (
        "s.csv:1: no 'email' column (found 'mail_to', 'name'): the first line must name the "
        "columns, one of them 'email'"
    )


def test_unusable_and_reserved_columns_are_ignored_with_a_warning(tmp_path):
    text = "email,unsubscribe_url,Prénom\na@example.org,https://evil.example,Ann\n"
    result = read_subscribers(write(tmp_path, text), shown="s.csv")
    assert result.subscribers[0].fields == {}
    messages = [str(f) for f in result.findings]
    assert messages[0].startswith("s.csv:1: warning: column 'unsubscribe_url' ignored")
    assert messages[1].startswith("s.csv:1: warning: column 'Prénom' ignored")


def test_no_valid_row_at_all_is_an_error(tmp_path):
    with pytest.raises(InputError) as caught:
        read_subscribers(write(tmp_path, "email\nnope\n"), shown="s.csv")
    assert caught.value.report().splitlines() == [
        "s.csv:2: 'nope' is not a valid address: An email address must have an @-sign.",
        "s.csv: no valid subscriber in the file",
    ]


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="no subscribers") as caught:
        read_subscribers(tmp_path / "absent.csv", shown="absent.csv")
    assert caught.value.report() == "absent.csv: file not found"
    with pytest.raises(InputError) as caught:
        read_subscribers(write(tmp_path, ""), shown="s.csv")
    assert "empty" in caught.value.report()


def test_values_are_single_line(tmp_path):
    text = 'email,name\na@example.org,"Ann\r\n\tLee\x00 "\n'
    [ann] = read_subscribers(write(tmp_path, text.replace("\x00", "\x07"))).subscribers
    assert ann.name == "Ann Lee"


@pytest.mark.parametrize("line", [2, 5, 60])  # line 60 is past the first 1,000 bytes
def test_a_nul_byte_is_reported_on_its_own_line(tmp_path, line):
    lines = ["email,name", *(f"r{n}@example.org,Reader {n}" for n in range(2, 70))]
    lines[line - 1] = lines[line - 1].replace("Reader", "Rea\x00der")
    column = lines[line - 1].index("\x00") + 1
    with pytest.raises(InputError) as caught:
        read_subscribers(write(tmp_path, "\n".join(lines) + "\n"), shown="subs.csv")
    assert caught.value.report() == (
        f"subs.csv:{line}: a NUL character (byte 0x00) at column {column}: the file is damaged "
        'or not plain text; remove the character, or export the list again as "CSV UTF-8"'
    )


def test_utf16_without_a_bom_is_recognised_on_line_1(tmp_path):
    data = "email,name\nann@example.org,Ann\n".encode("utf-16-le")
    with pytest.raises(InputError) as caught:
        read_subscribers(write(tmp_path, data), shown="subs.csv")
    assert caught.value.report().startswith("subs.csv:1: looks like UTF-16 or a spreadsheet file")
