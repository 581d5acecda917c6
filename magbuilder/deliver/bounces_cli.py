"""The ``magbuilder bounces`` command group: ``bounces import SOURCE…`` over ``bounces.py``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import MagbuilderError


class ImportIncomplete(MagbuilderError):
    """Raised by ``bounces import`` when a source could not be read at all (exit 1)."""


@click.group()
def bounces() -> None:
    """Bounces and complaints: import reports so nobody is mailed who cannot or will not be."""


@bounces.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "--soft-limit",
    metavar="N",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Suppress an address at its N-th soft (temporary) bounce.",
)
@click.option("--dry-run", is_flag=True, help="Read and report only: change nothing anywhere.")
@click.option(
    "--state-dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the campaign ledgers, if send used one [default: build/<id>/campaigns].",
)
def import_command(
    sources: tuple[str, ...], soft_limit: int, dry_run: bool, state_dir: Path | None
) -> None:
    """Read bounce and complaint reports and add their addresses to the suppression list.

    \b
    SOURCE is any of:
      an mbox file, or a Maildir folder (cur/, new/, tmp/)
      a file of one message (.eml), or of saved webhook JSON: Amazon SES (SNS),
        SendGrid, Postmark or Mailgun
      a folder of such files
      imaps://user@host[:port]/MAILBOX (imap:// uses STARTTLS; imap+insecure:// is
        for a server on this machine only); password in MAGBUILDER_IMAP_PASSWORD.
        Handled messages are marked read; unreadable ones stay unread, flagged
        MagbuilderSkipped.

    A hard bounce or a complaint suppresses the address at once; soft bounces are counted
    and suppress it at the --soft-limit-th. Each report's original Message-ID is matched to
    the campaign that sent it; a report no campaign here sent still suppresses its address
    and is listed as unmatched. A report already imported is not counted again.

    Run it from the project folder. Each unreadable item is named on stderr,
    SOURCE:ITEM: skipped: why, and skipped; the counts go to stdout.
    Exit codes: 0 every source read (skipped items included), 1 a source could not be
    read (no such file, IMAP login refused …), 2 usage.
    """
    from ..errors import InputError
    from ..paths import CONFIG_NAME
    from .bounces import format_summary, import_bounces

    if not (Path.cwd() / CONFIG_NAME).is_file():
        raise InputError(
            f"no {CONFIG_NAME} here: run bounces import from the project folder, whose "
            "suppression list and campaign ledgers it uses"
        )
    result = import_bounces(
        list(sources), Path.cwd(), soft_limit=soft_limit, dry_run=dry_run, state_dir=state_dir
    )
    for where, why in result.skipped:
        click.echo(f"{where}: skipped: {why}", err=True)
    for _source, why in result.unreadable:
        click.echo(why, err=True)
    click.echo(format_summary(result, soft_limit=soft_limit, dry_run=dry_run))
    if result.exit_code:
        raise ImportIncomplete(
            f"{len(result.unreadable)} of {len(sources)} source(s) could not be read (see above)"
        )
