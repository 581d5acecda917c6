"""The ``magbuilder`` command line: each command is a few lines over a library call.

Exit codes: 0 success, 1 bad input (every problem printed as ``path:line: message``), 2 usage.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from pathlib import Path

import click

from . import __version__
from .errors import MagbuilderError, UsageError

log = logging.getLogger("magbuilder")

manifest_arg = click.argument(
    "manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="ISSUE.yaml"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="magbuilder")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only print warnings and errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Build a PDF magazine and an HTML newsletter from review files and an issue manifest."""
    ctx.obj = {"debug": debug}
    logging.basicConfig(
        level=logging.DEBUG if debug else (logging.WARNING if quiet else logging.INFO),
        format="%(levelname)s: %(message)s" if debug else "%(message)s",
        stream=sys.stderr,
    )
    # WeasyPrint's own warnings (unsupported CSS, missing glyphs) matter; its INFO chatter doesn't.
    logging.getLogger("weasyprint").setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("pikepdf").setLevel(logging.WARNING)


@cli.command()
@click.argument(
    "manifests",
    nargs=-1,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="[ISSUE.yaml]...",
)
@click.option("--all", "build_all", is_flag=True, help="Build every issues/*.yaml.")
@click.option(
    "--out",
    default="build",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for outputs; files go to OUT/<issue id>/.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Layout processes [default: cores].")
@click.option("--single-pass", is_flag=True, help="Lay out the magazine in one pass (reference).")
@click.option("--keep-html", is_flag=True, help="Also write magazine.html, the single-pass source.")
@click.option("--force", is_flag=True, help="Ignore caches: lay out everything again.")
@click.option("--marks/--no-marks", default=None, help="Crop marks on the print file.")
@click.option("--no-preflight", is_flag=True, help="Skip the print file's preflight.")
def build(
    manifests: tuple[Path, ...],
    build_all: bool,
    out: Path,
    jobs: int | None,
    single_pass: bool,
    keep_html: bool,
    force: bool,
    marks: bool | None,
    no_preflight: bool,
) -> None:
    """Build issues: print and screen PDFs, newsletter HTML, text, MIME message and images.

    Reviews are laid out in parallel and cached: a rebuild lays out only what changed, and a
    build with nothing changed does nothing.
    """
    from .build import BuildOptions, build_issue, build_settings
    from .render.workers import warm_up
    from .stamp import up_to_date

    if build_all:
        manifests = tuple(sorted(Path("issues").glob("*.yaml")))
    if not manifests:
        raise UsageError("name an issue manifest (issues/<id>.yaml) or use --all")
    options = BuildOptions(
        jobs=jobs,
        single_pass=single_pass,
        keep_html=keep_html,
        force=force,
        marks=marks,
        preflight=not no_preflight,
    )
    failed: list[MagbuilderError] = []
    for manifest in manifests:
        # Nothing changed since the last build: say so without reading the issue at all.
        if not force and (done := up_to_date(manifest, out, build_settings(options))):
            click.echo(f"{done}: up to date, nothing to lay out")
            continue
        warm_up()  # the workers import WeasyPrint while this process reads the issue
        try:
            result = build_issue(manifest, out, options)
        except MagbuilderError as exc:
            if len(manifests) == 1:
                raise
            click.echo(f"{manifest}: failed\n{exc.report()}", err=True)
            failed.append(exc)
            continue
        if result.up_to_date:
            click.echo(f"{result.out_dir}: up to date, nothing to lay out")
            continue
        for line in result.drift:
            click.echo(line, err=True)
        for edition in [result, *result.editions.values()]:
            if edition.up_to_date:
                click.echo(f"{edition.out_dir}: up to date, nothing to lay out")
                continue
            for path in edition.files.values():
                if path.parent in (edition.out_dir, edition.out_dir / "proofs"):
                    click.echo(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KB)")
            images = sum(p.parent == edition.out_dir / "images" for p in edition.files.values())
            lang = f" ({edition.issue.manifest.lang})" if edition is not result else ""
            click.echo(
                f"{edition.issue.id}{lang}: laid out {len(edition.laid_out)} part(s), "
                f"reused {len(edition.cached)} from cache; {images} email images"
            )
    if failed:
        raise MagbuilderError(f"{len(failed)} of {len(manifests)} issues failed (see above)")


@cli.command()
@manifest_arg
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: a list of {path, line, level, message} on stdout, for tools.",
)
def check(manifest: Path, output_format: str) -> None:
    """Check ISSUE.yaml without building: manifest and reviews, images and their resolution,
    links, the layout's fonts, templates and the newsletter's size.

    Prints one line per finding, `path:line: level: message`, then a summary; exits 1 if any
    finding is an error.
    """
    import json

    from .checks import format_finding, run_checks

    result = run_checks(manifest)
    if output_format == "json":
        rows = [
            {"path": str(f.path), "line": f.line, "level": f.level, "message": f.message}
            for f in result.findings
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for finding in result.findings:
            click.echo(format_finding(finding), err=True)
    if result.errors:
        raise MagbuilderError(result.summary())
    click.echo(result.summary(), err=output_format == "json")


@cli.command()
@click.option(
    "--out",
    default="build/site",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the site (replaced whole).",
)
@click.option(
    "--build-dir",
    default="build",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where issues are built and reused.",
)
def archive(out: Path, build_dir: Path) -> None:
    """Build the archive site of every issues/*.yaml, building issues that are missing or stale."""
    from .archive import build_archive

    result = build_archive(Path.cwd(), out, build_dir)
    for issue_id in result.built:
        click.echo(f"built {build_dir / issue_id}")
    click.echo(f"wrote {out}/index.html ({len(result.issues)} issues) and {out}/feed.atom")


@cli.command()
@manifest_arg
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address only.")
def preview(manifest: Path, port: int, host: str) -> None:
    """Serve a live preview of ISSUE.yaml (email and PDF pages), rebuilt on every save."""
    from .preview import serve_preview

    def ready(url: str) -> None:
        click.echo(f"previewing {manifest} at {url} (Ctrl-C to stop)")

    serve_preview(manifest, host, port, on_ready=ready)


@cli.command("preflight")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--saddle-stitched", is_flag=True, help="Warn unless pages are a multiple of 4.")
@click.option(
    "--screen", is_flag=True,
    help="A reader's file (magazine-screen.pdf): fonts, images below 150 ppi and PDF/UA-1.",
)  # fmt: skip
def preflight_command(pdf: Path, saddle_stitched: bool, screen: bool) -> None:
    """Check PDF for print: boxes and bleed, fonts, PDF/X output intent, image resolution.

    With --screen, check a reader's file instead: embedded fonts, no image below 150 ppi, and
    the PDF/UA-1 rules of the pdfua package (tagged, language, title, figures' alternative
    text, links described, headings, the pdfuaid declaration). Each problem is one line,
    PDF: [warning: ]page N: RULE: message. Exit 1 on any error.
    """
    from .preflight import format_findings, preflight, summary

    findings = preflight(pdf, saddle_stitched=saddle_stitched, screen=screen)
    if any(f.level == "error" for f in findings):
        click.echo("\n".join(str(f) for f in findings))
        raise MagbuilderError(summary(findings))
    click.echo(format_findings(findings))


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE…")
@click.option(
    "--into", default="content/reviews", show_default=True,
    type=click.Path(file_okay=False, path_type=Path), help="Folder for the review files.",
)  # fmt: skip
@click.option("--title", help="Headline for a saved page that has none.")
def ingest(sources: tuple[str, ...], into: Path, title: str | None) -> None:
    """Ingest reviews from feeds (URL or file) and saved article pages (.html, .txt)."""
    from .errors import InputError
    from .ingest import ingest as run_ingest

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    report = run_ingest(list(sources), into, title=title)
    for finding in report.findings:
        click.echo(str(finding), err=True)
    for line in report.lines():
        click.echo(line)
    click.echo(report.summary())
    if report.errors:
        raise InputError("ingest failed", report.errors)


@cli.command()
@manifest_arg
@click.option(
    "--subscribers",
    metavar="FILE",
    envvar="MAGBUILDER_SUBSCRIBERS",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV list: an 'email' column, optional 'name', other columns as merge fields "
    "(env MAGBUILDER_SUBSCRIBERS).",
)
@click.option(
    "--smtp",
    metavar="URL",
    envvar="MAGBUILDER_SMTP",
    help="smtp://[user:password@]host:port of the mail server (env MAGBUILDER_SMTP).",
)
@click.option(
    "--tls",
    type=click.Choice(["auto", "starttls", "ssl", "none"]),
    default="auto",
    show_default=True,
    help="starttls (ports 587/25), ssl (implicit TLS, port 465) or none. auto: ssl for port "
    "465 or smtps://, none for a loopback server, else starttls.",
)
@click.option(
    "--test",
    "test_address",
    metavar="ADDRESS",
    help="Send one copy, subject marked [TEST], to ADDRESS only; the ledger is not touched.",
)
@click.option(
    "--dry-run",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every subscriber's message as an .eml file in DIR instead of sending.",
)
@click.option(
    "--rate",
    metavar="N",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="At most this many messages a second (0: no limit), over all connections.",
)
@click.option(
    "--connections",
    metavar="N",
    type=click.IntRange(min=1, max=32),
    default=1,
    show_default=True,
    help="SMTP connections at once (ask your relay how many it allows; often 2 to 10).",
)
@click.option(
    "--state-dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the campaign ledgers [default: build/<id>/campaigns in the project].",
)
@click.option(
    "--force-new-campaign",
    is_flag=True,
    help="Start a new campaign that sends to everyone again (needed when the newsletter "
    "changed after sending began).",
)
@click.option(
    "--resend-in-doubt",
    is_flag=True,
    help="Also send another copy to the recipients in doubt (the server may already have "
    "delivered it: they may get it twice). Without it they are never sent again.",
)
@click.option(
    "--status",
    is_flag=True,
    help="Print the campaign's counts and the failed, refused and in-doubt addresses.",
)
@click.option("--json", "as_json", is_flag=True, help="With --status: print the report as JSON.")
@click.option(
    "--campaign",
    metavar="N",
    type=click.IntRange(min=1),
    help="With --status: report campaign N of the issue [default: the latest].",
)
@click.option(
    "--max-attempts",
    metavar="N",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Attempts per address and run for temporary (4xx) failures.",
)
@click.option(
    "--retry-delay",
    metavar="SECONDS",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Wait before the first retry; doubles each time, at most 15 min.",
)
def send(
    manifest: Path,
    subscribers: Path | None,
    smtp: str | None,
    tls: str,
    test_address: str | None,
    dry_run: Path | None,
    rate: float,
    connections: int,
    state_dir: Path | None,
    force_new_campaign: bool,
    resend_in_doubt: bool,
    status: bool,
    as_json: bool,
    campaign: int | None,
    max_attempts: int,
    retry_delay: float,
) -> None:
    """Send ISSUE.yaml's newsletter to every subscriber through an SMTP server.

    Each subscriber gets one personalised message (greeting by name, their own signed
    unsubscribe link, also in List-Unsubscribe). Progress, with counts and ETA, goes to
    stderr; the final counts by state and the addresses that failed to stdout.

    \b
    Needs MAGBUILDER_UNSUBSCRIBE_SECRET (the key the website uses to check unsubscribe
    tokens) and site.unsubscribe_url with {token} in magbuilder.yaml. SMTP credentials
    come from the URL or MAGBUILDER_SMTP_USER / MAGBUILDER_SMTP_PASSWORD.

    \b
    Every recipient's state (pending, sent, failed, refused, in doubt) is committed to a
    ledger (SQLite) before the next message. Run the same command again after a crash,
    Ctrl-C or failures: it resumes, retries temporary (4xx) failures with back-off, and
    never retries permanent (5xx) refusals. A message whose fate is unknown (the connection
    was lost or timed out after the whole message went to the server, or the sender died
    while handing it over) is "in doubt": named in the report and --status, and sent again
    only with --resend-in-doubt. Nobody gets a second copy unless you choose it.
    If the newsletter changed since sending began it refuses, unless --force-new-campaign.

    \b
    Examples:
      magbuilder send issues/2026-12.yaml --subscribers subs.csv --dry-run out/eml
      magbuilder send issues/2026-12.yaml --smtp smtp://mail.example.org --test me@example.org
      magbuilder send issues/2026-12.yaml --subscribers subs.csv --smtp smtp://mail.example.org
      magbuilder send issues/2026-12.yaml --status
      magbuilder send issues/2026-12.yaml --status --campaign 1 --json

    Exit codes: 0 done, 1 bad input, addresses still failing (run again) or recipients in
    doubt (see --resend-in-doubt), 2 usage, 130 stopped by Ctrl-C (run again to resume).
    See docs/sending.md.
    """
    from .deliver import SendIncomplete, SendOptions, campaign_status, parse_smtp_url, send_issue
    from .deliver.report import format_result, format_status, resume_hint

    if not status and (as_json or campaign is not None):
        raise UsageError(f"{'--json' if as_json else '--campaign'} goes with --status")
    if status:
        report = campaign_status(manifest, state_dir, campaign)
        if as_json:
            click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        else:
            click.echo(format_status(report))
        return
    options = SendOptions(
        subscribers=subscribers,
        smtp=parse_smtp_url(smtp, tls) if smtp else None,
        test_address=test_address,
        dry_run=dry_run,
        rate=rate,
        connections=connections,
        state_dir=state_dir,
        force_new_campaign=force_new_campaign,
        resend_in_doubt=resend_in_doubt,
        max_attempts=max_attempts,
        retry_delay=retry_delay,
    )
    result = send_issue(manifest, options)
    click.echo(format_result(result))
    if result.exit_code:  # stopped, still failing or in doubt: exit 130 or 1 with the hint
        raise SendIncomplete(resume_hint(result) or "not everything was sent", result.exit_code)


@cli.command()
@click.argument("slug")
@click.argument("lang")
@click.option(
    "--project",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The project folder [default: the nearest folder up holding magbuilder.yaml].",
)
def translated(slug: str, lang: str, project: Path | None) -> None:
    """Record that the LANG translation of review SLUG is up to date with its source.

    Run it when a translation is done, and again after bringing it up to date: it writes the
    source's version (a digest of its text) into content/reviews/SLUG.LANG.md and keeps a copy
    of the source, so that `magbuilder check` can say which paragraphs changed next time.

    \b
    Example:
      magbuilder translated the-referee nb
    """
    from .paths import CONFIG_NAME, find_root
    from .translations import record_translated

    root = project or find_root(Path.cwd() / CONFIG_NAME)
    path, digest = record_translated(root, slug, lang)
    click.echo(f"{path.relative_to(root)}: translates the source as it is now ({digest[:19]}…)")


# A command group's --project: the folder its commands work in (ctx.obj["root"]).
project_option = click.option(
    "--project",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The project folder [default: the nearest folder up holding magbuilder.yaml].",
)


def _in_project(ctx: click.Context, project: Path | None) -> None:
    from .paths import CONFIG_NAME, find_root

    ctx.obj["root"] = project or find_root(Path.cwd() / CONFIG_NAME)


@cli.group()
@project_option
@click.pass_context
def subscribers(ctx: click.Context, project: Path | None) -> None:
    """The suppression list: who is never sent to again (subscribers/suppression.sqlite3)."""
    _in_project(ctx, project)


@subscribers.command("status")
@click.argument(
    "csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="LIST.csv"
)
@click.option("--verbose", "-v", is_flag=True, help="Name every suppressed address and why.")
@click.pass_context
def subscribers_status(ctx: click.Context, csv_file: Path, verbose: bool) -> None:
    """How many on LIST.csv would be sent, how many are suppressed (and why), how many skipped."""
    from .deliver.campaign import suppressed_summary
    from .deliver.subscribers import read_subscribers, report_findings
    from .deliver.suppression import SuppressionList

    listed = read_subscribers(csv_file, shown=str(csv_file))
    report_findings(listed)
    found = SuppressionList.for_project(ctx.obj["root"]).lookup([s.key for s in listed.subscribers])
    counts = Counter(entry.reason for entry in found.values())
    click.echo(f"{csv_file}: {len(listed.subscribers) + listed.duplicates + listed.skipped} rows")
    click.echo(f"  would be sent  {len(listed.subscribers) - len(found)}")
    click.echo(
        f"  suppressed     {len(found)}"
        + (f" ({suppressed_summary(counts).split(': ', 1)[1]})" if found else "")
    )
    click.echo(f"  skipped        {listed.skipped} invalid, {listed.duplicates} duplicate")
    if verbose:
        for subscriber in listed.subscribers:
            if entry := found.get(subscriber.key):
                click.echo(
                    f"{csv_file}:{subscriber.line}: {subscriber.email}: {entry.describe()}"
                    + (f" ({entry.detail})" if entry.detail else "")
                )


@subscribers.command("import-unsubscribes")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def subscribers_import(ctx: click.Context, file: Path) -> None:
    """Add the addresses in FILE to the suppression list as unsubscribed.

    FILE is a CSV with an 'email' column (and optionally 'date', ISO 8601), or a JSON list of
    addresses or of objects with 'email' (and optionally 'date'). Bad rows are reported as
    path:line and skipped; the exit code is then 1.
    """
    from .deliver.suppression import SuppressionList, import_unsubscribes
    from .errors import InputError

    result = import_unsubscribes(file, SuppressionList.for_project(ctx.obj["root"]), str(file))
    for finding in result.findings:
        log.warning("%s", finding)
    bad = len(result.findings)
    click.echo(
        f"{file}: {result.added} unsubscribed, {result.already} already suppressed"
        + (f", {bad} row{'s' * (bad != 1)} skipped (see above)" if bad else "")
    )
    if bad:
        raise InputError(f"{file}: {bad} bad row{'s' * (bad != 1)} skipped")


@subscribers.command("suppressed")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (address,reason,date,campaign,detail).")
@click.pass_context
def subscribers_suppressed(ctx: click.Context, as_csv: bool) -> None:
    """List every suppressed address: reason, date, campaign and detail."""
    import csv

    from .deliver.suppression import SuppressionList

    entries = SuppressionList.for_project(ctx.obj["root"]).all()
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["address", "reason", "date", "campaign", "detail"])
        for e in entries:
            writer.writerow([e.address, e.reason, e.date.isoformat(), e.campaign or "", e.detail])
        return
    for e in entries:
        click.echo(f"{e.address}  {e.describe()}" + (f"  ({e.detail})" if e.detail else ""))
    click.echo(f"{len(entries)} suppressed", err=True)


@cli.group()
@project_option
@click.pass_context
def sponsors(ctx: click.Context, project: Path | None) -> None:
    """Sponsors and house ads: where an issue's ads ran (docs/sponsors.md)."""
    _in_project(ctx, project)


@sponsors.command("report")
@click.argument("issue_id", metavar="ID")
@click.option(
    "--state-dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the campaign ledgers, if send used one [default: build/<id>/campaigns].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def sponsors_report(
    ctx: click.Context, issue_id: str, state_dir: Path | None, as_json: bool
) -> None:
    """Where each sponsor booked in issue ID (issues/ID.yaml) ran: slots, print pages,
    newsletter deliveries and editions.

    \b
    print: the page of each ad in the built build/ID/magazine.pdf (and each edition's
      build/ID/LANG/magazine.pdf), or why there is none (not built, built before the booking);
    newsletter: the recipients the server accepted the newsletter for, from the send ledgers,
      per campaign and edition language. Opens and clicks are not tracked: none are reported;
    editions: the languages the issue ran in (every edition carries its ads).

    \b
    Examples:
      magbuilder sponsors report 2026-12
      magbuilder sponsors --project ~/mag report 2026-12 --json

    Exit codes: 0 done, 1 bad input (no such issue, an invalid manifest), 2 usage.
    """
    from .deliver.sponsor_report import format_report, sponsor_report

    report = sponsor_report(ctx.obj["root"], issue_id, state_dir)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report))


from .deliver.bounces_cli import bounces  # noqa: E402 - its own module, see bounces_cli

cli.add_command(bounces)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map expected failures to exit codes without a traceback."""
    args = sys.argv[1:] if argv is None else argv
    try:
        # Without standalone mode, click returns ctx.exit()'s code instead of raising it.
        code = cli.main(args=args, prog_name="magbuilder", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except MagbuilderError as exc:
        if "--debug" in args:
            raise
        click.echo(exc.report(), err=True)
        return exc.exit_code
    except Exception as exc:  # a bug, not bad input: still no traceback unless asked for
        if "--debug" in args:
            raise
        click.echo(f"magbuilder: internal error: {exc!r}; rerun with --debug for details", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
