"""The pre-flight behind ``magbuilder check``: what can be known of an issue without laying it out.

``check_issue`` collects every finding (``path:line: level: message``) at once, stage by stage:

* the manifest, ``magbuilder.yaml`` and the selected reviews' front matter, as the loader reads
  them (``manifest.read_issue``), with a plainer message for an empty section;
* what the reviews and the manifest's Markdown say: images, links, raw HTML, nesting
  (``content_checks.py``);
* the layout: its fonts, the characters they can draw, the templates and the newsletter's size
  (``render/checks.py``).

An invalid manifest does not stop the later checks: they run on as much as the loader could
make out of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .content import Issue
from .content_checks import (
    DEFAULT_COLUMNS,
    cover_findings,
    link_problem,
    manifest_link_findings,
    review_findings,
)
from .errors import Finding, Level
from .manifest import LoadedIssue, read_issue

__all__ = ["CheckResult", "check_issue", "format_finding", "link_problem", "run_checks"]


@dataclass
class CheckResult:
    """Every finding about one issue, and the issue itself when it loaded."""

    manifest: str
    issue: Issue | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level is Level.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.level is Level.WARNING)

    def summary(self) -> str:
        """One line: ``ok (10 reviews in 3 sections)`` or ``failed``, with the counts."""
        counts = f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        if self.errors or self.issue is None:
            return f"{self.manifest}: failed: {counts}"
        reviews, sections = len(self.issue.reviews), len(self.issue.sections)
        return f"{self.manifest}: ok ({reviews} reviews in {sections} sections), {counts}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def format_finding(finding: Finding) -> str:
    """``path:line: level: message`` (the level is always written, errors too)."""
    where = f"{finding.path}:{finding.line}" if finding.line else f"{finding.path}"
    return f"{where}: {finding.level}: {finding.message}"


def check_issue(manifest_path: Path | str) -> list[Finding]:
    """Every problem with an issue and what it uses, as warnings and errors, without building."""
    return run_checks(manifest_path).findings


def run_checks(manifest_path: Path | str) -> CheckResult:
    """``check_issue`` with the loaded issue (when it loads) for the summary line."""
    # The renderers bring WeasyPrint and MJML: imported when checks run, not for link_problem.
    from .render import checks as render_checks

    loaded = read_issue(manifest_path)
    findings = [_clarified(finding, loaded) for finding in loaded.findings]
    layout, missing = render_checks.find_layout(loaded)
    findings += missing
    spec = loaded.print_spec
    if spec is not None:
        findings += cover_findings(loaded, spec)
    columns = layout.body_columns if layout is not None else DEFAULT_COLUMNS
    for review in loaded.reviews:
        findings += review_findings(review, loaded.root, spec, columns)
    findings += manifest_link_findings(loaded)
    if layout is not None:
        findings += render_checks.font_findings(layout, loaded)
        findings += render_checks.glyph_findings(layout, loaded)
        if loaded.issue is not None:
            if not any(f.level is Level.ERROR for f in findings):  # bad images would repeat
                findings += render_checks.template_findings(loaded.issue, layout, loaded.where)
            line = loaded.key_line("newsletter")
            findings += render_checks.newsletter_findings(loaded.issue, layout, loaded.where, line)
    unique = list(dict.fromkeys(findings))  # the same problem found twice is shown once
    return CheckResult(loaded.where, loaded.issue, unique)


_EMPTY_SECTION = re.compile(r"sections\[(\d+)\]\.reviews: List should have at least 1 item")


def _clarified(finding: Finding, loaded: LoadedIssue) -> Finding:
    """A plainer message for an empty section than pydantic's 'at least 1 item'."""
    match = _EMPTY_SECTION.match(finding.message)
    if not match or finding.path != loaded.where:
        return finding
    index = int(match.group(1))
    title = loaded.raw("sections", index, "title")
    named = f" '{title}'" if title is not None else ""
    message = f"sections[{index}]: section{named} is empty: add reviews to it or remove it"
    return Finding(finding.path, finding.line, message, finding.level)
