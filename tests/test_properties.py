"""Property tests: whatever a manifest or a review's front matter holds, loading it either works
or raises InputError with findings a person can read, never anything else."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from magbuilder.checks import link_problem
from magbuilder.errors import Finding, InputError
from magbuilder.manifest import load_issue
from magbuilder.markdown import body_references

from .conftest import manifest_text, review_text

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MANIFEST_KEYS = [
    "id", "number", "title", "date", "lang", "layout", "cover", "editorial", "sections",
    "newsletter", "print", "site", "image", "headline", "lines", "text", "author", "reviews",
    "subject", "preheader", "size", "margins", "bleed", "base_url", "name", "from_email",
]  # fmt: skip
FRONT_KEYS = [
    "title", "author", "published", "kicker", "standfirst", "author_bio", "lang", "tags",
    "films", "image", "source_url", "guid", "src", "alt", "year", "runtime", "directors",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=30)
    | st.dates(min_value=dt.date(1, 1, 1))
    | st.sampled_from(["a", "media/cover.jpg", "../x.jpg", "/etc/passwd", "2026-02-30", "no"])
)
keys = st.sampled_from(MANIFEST_KEYS + FRONT_KEYS) | st.text(max_size=12) | st.integers()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


DELETE = object()


def paths(data: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a document: ('cover',), ('cover', 'image'), ('sections', 0, 'title')…"""
    found = [prefix] if prefix else []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for key, value in items:
        found += paths(value, (*prefix, key))
    return found


def mutate(base: dict, changes: list[tuple[tuple, object]]) -> object:
    """``base`` with a few values replaced or deleted, anywhere in it."""
    data = copy.deepcopy(base)
    for path, value in changes:
        parent: object = data
        for key in path[:-1]:
            parent = _child(parent, key)
        last = path[-1]
        in_list = isinstance(parent, list) and isinstance(last, int) and last < len(parent)
        if isinstance(parent, dict) or in_list:
            if value is not DELETE:
                parent[last] = value
            elif isinstance(parent, dict):
                parent.pop(last, None)
            else:
                del parent[last]
    return data


def _child(parent: object, key: object) -> object:
    if isinstance(parent, dict):
        return parent.get(key)
    if isinstance(parent, list) and isinstance(key, int) and key < len(parent):
        return parent[key]
    return None


def documents(base: dict) -> st.SearchStrategy[str]:
    """YAML text: the valid ``base`` with a few values changed, random data, or random text."""
    change = st.tuples(st.sampled_from(paths(base)), values | st.just(DELETE))
    mutated = st.lists(change, min_size=1, max_size=3).map(lambda c: mutate(base, c))
    extra = st.dictionaries(keys, values, min_size=1, max_size=3).map(lambda e: {**base, **e})
    as_yaml = (mutated | extra | values).map(lambda data: yaml.safe_dump(data, allow_unicode=True))
    return as_yaml | st.text(max_size=300)


BASE_MANIFEST = yaml.safe_load(manifest_text(["alpha"]))
BASE_FRONT = yaml.safe_load(review_text("Alpha").split("---")[1])


def assert_readable(error: InputError) -> None:
    assert error.findings, "an InputError must say what is wrong"
    for finding in error.findings:
        assert isinstance(finding, Finding)
        assert finding.line is None or (isinstance(finding.line, int) and finding.line >= 1)
        assert str(finding) and finding.message


def write(path: Path, text: str) -> None:
    # Lone surrogates from st.text() are written as-is: the loader must report bad UTF-8.
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


@pytest.fixture
def project(tmp_project) -> Path:
    return tmp_project(
        {"content/reviews/alpha.md": review_text("Alpha"), "issues/t-1.yaml": "id: x\n"}
    )


@SETTINGS
@given(text=documents(BASE_MANIFEST))
def test_random_manifests_load_or_raise_input_error(project, text):
    manifest = project / "issues" / "t-1.yaml"
    write(manifest, text)
    try:
        issue = load_issue(manifest)
    except InputError as error:
        assert_readable(error)
    else:
        assert all(review.slug == "alpha" for review in issue.reviews)  # the only review file


@SETTINGS
@given(front=documents(BASE_FRONT), body=st.text(max_size=200))
def test_random_front_matter_loads_or_raises_input_error(project, front, body):
    write(project / "issues" / "t-1.yaml", manifest_text(["alpha"]))
    write(project / "content" / "reviews" / "alpha.md", f"---\n{front}\n---\n{body}\n")
    try:
        load_issue(project / "issues" / "t-1.yaml")
    except InputError as error:
        assert_readable(error)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300) | st.lists(st.sampled_from(
    ["[a](", "](", ")", "<", ">", "<a href='", "<img src=", "'", '"', " ", "\n", "javascript:",
     "http://", "//", "/", "#", "mailto:", "::: pullquote\n", ":::\n", "![x](", "[x]: ", "\\"]
)).map("".join))  # fmt: skip
def test_link_checks_never_fail_on_any_markdown(text):
    for offset, kind, value, _tag in body_references(text):
        assert offset >= 0 and kind in ("link", "image", "dropped")
        if kind == "link":
            problem = link_problem(value)
            assert problem is None or isinstance(problem, str)
