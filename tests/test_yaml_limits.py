"""Every YAML file is read with limits: no aliases, no deep nesting, no huge documents and no
duplicate keys, each refused at once with ``path:line`` and what to do.

A billion-laughs bomb is a few hundred bytes that PyYAML turns into shared references; the
blow-up comes later, when the data is walked (positions, validation, JSON). So the bombs here
run in a child process with a deadline and a memory cap: a loader that hangs or swells fails
the test instead of the machine, and the child says how long ``load_yaml`` itself took.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from magbuilder.errors import InputError
from magbuilder.yamlpos import load_yaml

# Both loaders: libyaml's C parser when PyYAML was built with it, else the pure-Python one.
LOADERS = ["libyaml", "python"]

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    request = json.load(sys.stdin)
    import yaml
    if request["loader"] == "python":  # as on a machine whose PyYAML has no libyaml
        for name in ("CParser", "CSafeLoader", "CLoader", "CBaseLoader", "CFullLoader"):
            if hasattr(yaml, name):
                delattr(yaml, name)
    from magbuilder.errors import InputError
    from magbuilder.yamlpos import load_yaml
    start = time.perf_counter()
    try:
        load_yaml(request["text"], "t.yaml")
        findings = []
    except InputError as exc:
        findings = [str(f) for f in exc.findings]
    print(json.dumps({"seconds": time.perf_counter() - start, "findings": findings}))
    """
)


def load_in_child(text: str, loader: str) -> tuple[float, list[str]]:
    """(seconds ``load_yaml`` took, its findings), run in a fresh process with a deadline."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", CHILD],
            input=json.dumps({"text": text, "loader": loader}),
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("load_yaml still ran after 20 s")
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    return answer["seconds"], answer["findings"]


def findings(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        load_yaml(text, "t.yaml")
    return [str(f) for f in info.value.findings]


def billion_laughs(levels: int = 9) -> str:
    """``levels`` anchors, each a list of nine aliases to the one before: 9**levels strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("loader", LOADERS)
def test_an_alias_bomb_is_refused_at_its_first_alias_in_well_under_a_second(loader):
    seconds, found = load_in_child(billion_laughs(), loader)
    assert found == [
        "t.yaml:2: YAML alias '*a0' is not allowed (magbuilder files never need anchors and "
        "aliases, and a few of them can expand to gigabytes): write the value out in full"
    ]
    assert seconds < 0.5


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("title: &t Alpha\nkicker: *t\n", 2, "YAML alias '*t'"),
        ("image: &i {src: a.jpg, alt: A}\nfilms:\n  - *i\n", 3, "YAML alias '*i'"),
        ("site:\n  <<: {name: M}\n  base_url: x\n", 2, "merge key '<<' is not allowed"),
    ],
    ids=["alias-to-text", "alias-in-a-list", "merge-key"],
)
def test_any_alias_or_merge_key_is_refused(text, line, what):
    # One rule a person can follow: none at all, not "a few, and only to plain values".
    [error] = findings(text)
    assert error.startswith(f"t.yaml:{line}: {what}")
    # An anchor that nothing refers to is harmless, and allowed.
    assert load_yaml("title: &t Alpha\n", "t.yaml")[0] == {"title": "Alpha"}


DEPTHS = {
    "flow-100k": ("lines: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),
    "block-list-40": ("lines:\n  " + "- " * 40 + "x\n", 2),
    "block-map-40": ("".join(" " * n + f"k{n}:\n" for n in range(40)) + " " * 40 + "v\n", 21),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("case", DEPTHS, ids=list(DEPTHS))
def test_deep_nesting_is_refused_where_it_passes_the_limit(case, loader):
    # 100 000 levels: a RecursionError in PyYAML's composer, or libyaml's own limit (1000)
    # worded as a syntax error; under 1000 passes libyaml and overflows the walks after it
    # (tests/test_bad_inputs.py has 990). 40 is simply past the limit, wherever it is written.
    text, line = DEPTHS[case]
    seconds, found = load_in_child(text, loader)
    assert found == [
        f"t.yaml:{line}: YAML nested more than 20 levels deep (magbuilder files need at most "
        "5): flatten it"
    ]
    # PyYAML's pure-Python scanner looks up to 1024 characters ahead for a possible key, at a
    # cost that grows with the square of the levels it saw: a constant second or two, there.
    assert seconds < (1 if loader == "libyaml" else 5)


def test_twenty_levels_load_and_twenty_one_do_not():
    def nested(levels: int) -> str:
        return "".join(" " * n + f"k{n}:\n" for n in range(levels)) + " " * levels + "v\n"

    data, _ = load_yaml(nested(20), "t.yaml")
    for n in range(20):
        data = data[f"k{n}"]
    assert data == "v"
    assert findings(nested(21)) == [
        "t.yaml:21: YAML nested more than 20 levels deep (magbuilder files need at most 5): "
        "flatten it"
    ]


@pytest.mark.parametrize("loader", LOADERS)
def test_a_document_over_a_megabyte_is_refused_before_it_is_parsed(loader):
    seconds, found = load_in_child("text: |\n" + "  lol lol lol lol\n" * 70_000, loader)
    assert found == [
        "t.yaml:1: 1,260,008 characters of YAML, more than the 1,000,000 magbuilder reads: "
        "a manifest, front matter or settings file is far smaller; check that this is the "
        "right file"
    ]
    assert seconds < 0.5


def test_a_duplicate_key_names_both_lines():
    text = "id: a\nsections:\n  - title: A\nlang: no\nsections:\n  - title: B\n"
    assert findings(text) == [
        "t.yaml:5: key 'sections' appears twice (first on line 2): keep one",
    ]
    # Kept once, the file loads as before, with its positions.
    data, positions = load_yaml(text.replace("sections:\n  - title: B\n", ""), "t.yaml")
    assert data == {"id": "a", "sections": [{"title": "A"}], "lang": "no"}
    assert positions.line(("sections", 0, "title")) == 3
    assert positions.key_line(("lang",)) == 4


def test_every_duplicate_key_is_reported_nested_ones_too():
    text = (
        "cover:\n  image: a.jpg\n  headline: H\n  image: b.jpg\n"
        "films:\n  - title: X\n    year: 2001\n    year: 2002\n"
        "1: one\n01: also one\n"
    )
    assert findings(text) == [
        "t.yaml:4: key 'image' appears twice (first on line 2): keep one",
        "t.yaml:8: key 'year' appears twice (first on line 7): keep one",
        "t.yaml:10: key '01' appears twice (first on line 9): keep one",
    ]


def test_a_duplicate_key_in_front_matter_is_reported_at_its_line_in_the_file():
    # line_offset: front matter starts after the file's opening '---'.
    with pytest.raises(InputError) as info:
        load_yaml("title: A\nauthor: B\ntitle: C\n", "a.md", line_offset=1)
    assert [str(f) for f in info.value.findings] == [
        "a.md:4: key 'title' appears twice (first on line 2): keep one"
    ]
