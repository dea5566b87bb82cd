"""What the modules' CLI commands share: the lazily built application they run in, the
group class that gives them its context, the actor and errors and progress bars.

Nothing heavy is imported at the top: `crisis-ct --help` and `crisis-ct users --help`
import this module and must stay fast (tests/test_cli_startup.py)."""
from __future__ import annotations

import functools
import getpass
import sys
from contextlib import contextmanager

import click

_APP_KEY = "crisis_ct.app"


def _application(ctx: click.Context):
    """The app the command runs in, built once per invocation and only when a command runs.
    Test runners (Flask's FlaskCliRunner) pass their app as a ScriptInfo in ctx.obj."""
    root = ctx.find_root()
    app = root.meta.get(_APP_KEY)
    if app is None:
        load_app = getattr(ctx.obj, "load_app", None)
        if load_app is not None:
            app = load_app()
        else:
            from crisis_ct.app import create_app

            app = create_app()
        root.meta[_APP_KEY] = app
    return app


def with_app(function):
    """Runs the command inside the application context (database(), config)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        from flask import current_app

        if current_app:
            return function(*args, **kwargs)
        with _application(click.get_current_context()).app_context():
            return function(*args, **kwargs)

    return run


class AppGroup(click.Group):
    """A command group whose commands run in the application context, like flask.cli's
    AppGroup, without importing Flask (or building the app) until a command runs."""

    def command(self, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return self.command()(args[0])

        def decorator(function):
            return click.Group.command(self, *args, **kwargs)(with_app(function))

        return decorator

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)


def cli_actor():
    from crisis_ct.accounts.audit import Actor

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"cli:{who}")


@contextmanager
def progress_bar(total: int | None, description: str):
    """A progress bar on stderr for long runs; silent when stderr is not a terminal
    and the job is small."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="row", file=sys.stderr,
               disable=total is not None and total < 2000 and not sys.stderr.isatty())
    try:
        yield bar.update
    finally:
        bar.close()


def fail(message: str) -> None:
    raise click.ClickException(message)
