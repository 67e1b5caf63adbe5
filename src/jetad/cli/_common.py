"""Shared pieces of the ``jetad`` command line: the click group, the console, and the
options and checks several commands use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jetad._extras import MissingExtra

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _writable(directory: Path, option: str = "--output") -> Path:
    """Create ``directory`` and check that it takes files, before any long computation; one
    line naming the option and the directory when it does not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".jetad-write-check"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise click.ClickException(
            f"cannot write to {option} {directory}: {err.strerror or err}"
        ) from None
    return directory


def _key_values(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        pairs[key.strip()] = value.strip()
    return pairs


class _Group(click.Group):
    """Every command reports a missing optional dependency as one line naming its extra."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MissingExtra as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jetad")
@click.option("-q", "--quiet", is_flag=True,
              help="Results and errors only: no progress bars, status lines or log messages.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log messages at DEBUG, the libraries' (Dask's, coffea's) included.")
def main(quiet: bool, verbose: bool) -> None:
    """jetad: unsupervised new-physics searches with jets, as a coffea plugin."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    _configure_logging(quiet, verbose)


def _configure_logging(quiet: bool, verbose: bool) -> None:
    """Python ``logging`` through rich on stderr: WARNING with ``--quiet`` (and no progress
    bars: the console goes quiet), DEBUG for everything with ``--verbose``, INFO otherwise."""
    import logging

    from rich.logging import RichHandler

    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = RichHandler(console=console, show_path=verbose, show_time=verbose)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    if not verbose:  # the libraries speak at WARNING and above only
        for name in ("distributed", "coffea", "numba", "fsspec", "asyncio"):
            logging.getLogger(name).setLevel(max(level, logging.WARNING))
    console.quiet = quiet


def _executor_options(command):
    """The options every command that runs a processor over a fileset shares."""
    options = [
        click.option("--fileset", type=click.Path(exists=True, path_type=Path), required=True),
        click.option(
            "--model",
            "models",
            multiple=True,
            metavar="[NAME=]MODEL.pt",
            help="Model(s) to score with (repeatable); the name defaults to the file stem.",
        ),
        click.option(
            "--executor",
            type=click.Choice(["iterative", "futures", "dask", "dask-awkward"]),
            default="dask",
            show_default=True,
            help="dask and dask-awkward (coffea's apply_to_fileset; dijet only) without "
            "--scheduler start a LocalCluster of --workers processes.",
        ),
        click.option("--scheduler", default=None, help="Address of an existing Dask scheduler."),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True),
        click.option("--dashboard", default=None, metavar="ADDRESS",
                     help="Serve the LocalCluster's Dask dashboard at ADDRESS (e.g. :8787)."),
        click.option("--chunksize", type=click.IntRange(min=1), default=100_000, show_default=True),
        click.option("--maxchunks", type=click.IntRange(min=1), default=None),
        click.option(
            "--skip-bad-files", is_flag=True, help="Skip unreadable files instead of stopping."
        ),
        click.option("--output", "-o", type=click.Path(path_type=Path), required=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _named_models(models: tuple[str, ...]) -> dict[str, str]:
    named = {}
    for item in models:
        name, sep, path = item.partition("=")
        named[name if sep else Path(item).stem] = path if sep else item
    return named




@contextmanager
def one_line_errors() -> Iterator[None]:
    """A ``ValueError`` (bad input, named by the workflow) becomes click's one-line error."""
    try:
        yield
    except ValueError as err:
        raise click.ClickException(str(err)) from None


def report(text: str) -> None:
    """Print a workflow's result line on the console (silent with ``--quiet``)."""
    console.print(text, highlight=False)
