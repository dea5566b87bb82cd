"""Small helpers shared by the modules' CLI commands."""
from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager

import click
from tqdm import tqdm

from crisis_ct.accounts.audit import Actor


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"cli:{who}")


@contextmanager
def progress_bar(total: int | None, description: str):
    """A progress bar on stderr for long runs; silent when stderr is not a terminal
    and the job is small."""
    bar = tqdm(total=total, desc=description, unit="row", file=sys.stderr,
               disable=total is not None and total < 2000 and not sys.stderr.isatty())
    try:
        yield bar.update
    finally:
        bar.close()


def fail(message: str) -> None:
    raise click.ClickException(message)
