"""Ingest settings: ``ingest.yaml`` at the project root, over the built-in ``default_rules.yaml``.

``ingest.yaml`` holds one ``ingest:`` mapping (the same shape a future ``ingest:`` section of
``magbuilder.yaml`` would have). Every key is optional; problems are reported as ``path:line``.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from .. import __version__
from ..content import Model
from ..errors import Finding, InputError
from ..validation import validate
from ..yamlpos import load_yaml

CONFIG_NAME = "ingest.yaml"
USER_AGENT = f"magbuilder/{__version__} (review ingest; +https://pypi.org/project/magbuilder/)"

_SELECTOR = re.compile(
    r"^(?P<tag>[a-zA-Z][a-zA-Z0-9]*)?"
    r"(?P<rest>(?:\.[\w-]+|#[\w-]+|\[[\w-]+(?:[*^]?=[^\]'\"]+)?\])*)$"
)


def _check_pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression ({exc}): fix or quote it") from None
    return value


def _check_selector(value: str) -> str:
    if not _SELECTOR.match(value):
        raise ValueError(
            "unsupported selector: use tag, .class, #id, [attr], [attr=v], [attr*=v] or [attr^=v],"
            " combined without spaces"
        )
    return value


Pattern = Annotated[str, AfterValidator(_check_pattern)]
Selector = Annotated[str, Field(min_length=1), AfterValidator(_check_selector)]


class Labels(Model):
    """Labels of metadata lines (``Director: …``), per field they fill."""

    published: list[str] = []
    directors: list[str] = []
    countries: list[str] = []
    year: list[str] = []
    runtime: list[str] = []
    original_title: list[str] = []
    film: list[str] = []


class Rules(Model):
    """Boilerplate and recognition rules; see ``default_rules.yaml`` for what each list means."""

    remove_elements: list[Selector] = []
    remove_paragraphs: list[Pattern] = []
    truncation_markers: list[Pattern] = []
    cut_off_markers: list[Pattern] = []
    tracking_pixels: list[Pattern] = []
    ignore_tags: list[str] = []
    credit_labels: list[str] = []
    standfirst_classes: list[str] = []
    kicker_classes: list[str] = []
    pullquote_classes: list[str] = []
    article_selectors: list[Selector] = []
    labels: Labels = Labels()

    def plus(self, other: Rules) -> Rules:
        """These rules with ``other``'s added after them."""
        merged = {
            name: getattr(self, name) + getattr(other, name)
            for name in type(self).model_fields
            if name != "labels"
        }
        labels = {
            name: getattr(self.labels, name) + getattr(other.labels, name)
            for name in Labels.model_fields
        }
        return Rules(**merged, labels=Labels(**labels))


class FetchSettings(Model):
    """How feeds are downloaded."""

    timeout: float = Field(
        20.0, gt=0, le=600, description="seconds for a whole request: connect, headers, body"
    )
    max_bytes: int = Field(20_000_000, gt=0, description="largest feed accepted")
    user_agent: str = USER_AGENT


class ImageSettings(Model):
    """How remote images are downloaded into ``content/media/``."""

    download: bool = True
    timeout: float = Field(20.0, gt=0, le=600, description="seconds for a whole download")
    max_bytes: int = Field(10_000_000, gt=0, description="largest image accepted")
    allow_private: bool = Field(
        False, description="allow loopback/private addresses (tests only: a feed could aim at them)"
    )


class IngestSettings(Model):
    """The ``ingest:`` mapping of ``ingest.yaml``."""

    fetch: FetchSettings = FetchSettings()
    images: ImageSettings = ImageSettings()
    max_item_bytes: int = Field(2_000_000, gt=0, description="largest item (HTML bytes) accepted")
    use_default_rules: bool = True
    rules: Rules = Rules()


class IngestFile(Model):
    """The whole of ``ingest.yaml``."""

    ingest: IngestSettings = IngestSettings()


def default_rules() -> Rules:
    """The built-in rules shipped as ``default_rules.yaml``."""
    resource = files("magbuilder.ingest") / "default_rules.yaml"
    data, positions = load_yaml(resource.read_text(encoding="utf-8"), "default_rules.yaml")
    rules, findings = validate(Rules, data, positions, "magbuilder/ingest/default_rules.yaml")
    if rules is None:  # a broken package, not bad input
        raise RuntimeError("; ".join(str(f) for f in findings))
    return rules


def load_settings(root: Path | None, shown: str = CONFIG_NAME) -> tuple[IngestSettings, Rules]:
    """Settings from ``<root>/ingest.yaml`` (defaults when absent) and the effective rules.

    Raises InputError with every problem in the file, each with its line.
    """
    settings = IngestSettings()
    path = root / CONFIG_NAME if root else None
    if path is not None and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                "bad encoding",
                [Finding(shown, None, f"not UTF-8 (byte {exc.start}): save it as UTF-8")],
            ) from None
        data, positions = load_yaml(text, shown)
        if data is not None:
            parsed, findings = validate(IngestFile, data, positions, shown)
            if parsed is None:
                raise InputError(f"invalid {shown}", findings)
            settings = parsed.ingest
    rules = default_rules().plus(settings.rules) if settings.use_default_rules else settings.rules
    return settings, rules
