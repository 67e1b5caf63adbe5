"""Running a processor over a fileset and writing its outputs.

:func:`run_processor` chooses the coffea executor (iterative, futures, or Dask: an embedded
``distributed.LocalCluster`` that starts and stops by itself, or an existing scheduler by
address) and :func:`write_outputs` writes ``histograms.coffea``, ``histograms.root``,
``cutflow.json`` and the m_jj plots.

To use an HTCondor or Slurm cluster, start it with dask-jobqueue and pass its address::

    from dask_jobqueue import HTCondorCluster
    cluster = HTCondorCluster(cores=1, memory="2GB", disk="1GB")
    cluster.scale(jobs=50)
    print(cluster.scheduler_address)   # then: jetad run ... --executor dask --scheduler ADDRESS
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import warnings
from contextlib import ExitStack, contextmanager, redirect_stdout
from pathlib import Path

import hist
from coffea import processor

from jetad._errors import one_line
from jetad._extras import require
from jetad.datasets import JetadSchema, generator_sums

__all__ = [
    "EXECUTORS",
    "dask_client",
    "histograms",
    "run_dask_awkward",
    "run_processor",
    "skipped_files",
    "write_outputs",
]

EXECUTORS = ("iterative", "futures", "dask")


@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, dashboard: str | None = None):
    """A ``distributed.Client`` of the cluster at ``scheduler``, or of an embedded
    ``LocalCluster`` of ``workers`` single-threaded processes that stops on exit, with its
    dashboard at ``dashboard`` (e.g. ``":8787"``; none by default). Dask logs at WARNING and
    the embedded cluster's shutdown (a worker "still alive … killing") is silent, unless the
    root logger is at DEBUG (``jetad --verbose``)."""
    distributed = require("distributed", "the Dask executor")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:  # all of it with --verbose
        logging.getLogger("distributed").setLevel(logging.WARNING)

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=dashboard
    )
    if dashboard is not None:
        logging.getLogger("jetad").info("Dask dashboard: %s", cluster.dashboard_link)
    with cluster, Client(cluster) as client:
        yield client
        quiet = logging.getLogger("distributed")
        if quiet.getEffectiveLevel() > logging.DEBUG:  # not with jetad --verbose
            quiet.setLevel(logging.CRITICAL)  # the nanny's "still alive… killing" on close


#: How coffea's Runner says that no chunk was left to run (every file skipped).
_NOTHING_LEFT = ("No chunks survived preprocessing", "No chunks returned results")


def run_processor(
    processor_instance: processor.ProcessorABC,
    fileset: dict,
    executor: str = "futures",
    workers: int = 2,
    chunksize: int = 100_000,
    maxchunks: int | None = None,
    skip_bad_files: bool = False,
    scheduler: str | None = None,
    dashboard: str | None = None,
    status: bool = True,
):
    """Run ``processor_instance`` over ``fileset`` (coffea's layout) and return its output.

    ``dashboard`` is the embedded LocalCluster's dashboard address; ``status`` shows coffea's
    progress bars.

    A file that cannot be read stops the run with an error naming it, unless
    ``skip_bad_files``, in which case it is skipped (coffea reports it in the run's metrics).
    Simulated datasets are normalised with Σw from their files' ``Runs/genEventSumw``
    (:func:`jetad.datasets.generator_sums`).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    fileset = generator_sums(fileset)
    with ExitStack() as stack:
        if executor == "iterative":
            chosen = processor.IterativeExecutor(status=status)
        elif executor == "futures":
            chosen = processor.FuturesExecutor(workers=workers, status=status)
        else:
            client = stack.enter_context(dask_client(scheduler, workers, dashboard))
            chosen = processor.DaskExecutor(client=client, status=status)
        runner = processor.Runner(
            executor=chosen,
            schema=JetadSchema,
            chunksize=chunksize,
            maxchunks=maxchunks,
            skipbadfiles=skip_bad_files,
            # coffea's default cache is process-wide and keyed by (dataset, file, tree) only, with
            # the fileset metadata inside: a second run with a changed xsec would get the old one.
            metadata_cache={},
        )
        if not status:  # coffea's futures executor draws its bars whatever its status says
            stack.enter_context(redirect_stdout(io.StringIO()))
        with warnings.catch_warnings():
            # jetad reports skipped files itself (skipped_files); coffea's retries stay quiet
            warnings.filterwarnings("ignore", message="Performed attempt")
            warnings.filterwarnings("ignore", message="Skipping bad file")
            try:
                return runner(fileset, processor_instance=processor_instance, treename="Events")
            except ValueError as err:
                if skip_bad_files and str(err).startswith(_NOTHING_LEFT):
                    files = sorted(f for entry in fileset.values() for f in entry["files"])
                    raise RuntimeError(
                        f"no file could be read, every one was skipped: {', '.join(files)}"
                    ) from None
                raise RuntimeError(f"processing failed: {one_line(err)}") from err
            except Exception as err:
                raise RuntimeError(f"processing failed: {one_line(err)}") from err


def run_dask_awkward(
    processor_instance: processor.ProcessorABC,
    fileset: dict,
    chunksize: int = 100_000,
    skip_bad_files: bool = False,
    scheduler: str | None = None,
    workers: int = 2,
    dashboard: str | None = None,
):
    """Run ``processor_instance`` through ``coffea.dataset_tools.apply_to_fileset``: one
    dask-awkward task graph over the whole fileset, computed on the cluster at ``scheduler``
    or on an embedded ``LocalCluster``. The result has the layout of :func:`run_processor`.

    Limitations: only processors written for dask-awkward inputs (the dijet processor with
    ``jets="fatjet"``). The events read per file come from coffea's preprocessing, which
    drops unreadable files with ``skip_bad_files``.
    """
    import dask
    from coffea.dataset_tools import apply_to_fileset, preprocess

    fileset = generator_sums(fileset)
    runnable, _ = preprocess(
        fileset, step_size=chunksize, skip_bad_files=skip_bad_files, allow_empty_datasets=True
    )
    graphs = apply_to_fileset(processor_instance, runnable, schemaclass=JetadSchema)
    with dask_client(scheduler, workers, dashboard):
        (outputs,) = dask.compute(graphs)
    result = processor.accumulate(outputs.values())
    result["processed"] = {
        name: sum(stop - start for start, stop in spec.get("steps") or ())
        for entry in runnable.values()
        for name, spec in entry["files"].items()
    }
    return result


def skipped_files(output: dict, fileset: dict) -> list[str]:
    """Files of ``fileset`` that no chunk of the run came from (unreadable, and skipped)."""
    processed = set(output.get("processed", {}))
    return sorted(f for entry in fileset.values() for f in entry["files"] if f not in processed)


def load_output(path: str | Path) -> dict:
    """A processor output saved by :func:`write_outputs` (``histograms.coffea``); a file that
    is not one gives a one-line ValueError naming it."""
    from coffea.util import load

    try:
        output = load(str(path))
    except Exception as err:  # LZ4, pickle and cloudpickle raise many types for a bad file
        raise ValueError(
            f"cannot read {str(path)!r} as a jetad run output (histograms.coffea): "
            f"{one_line(err)}"
        ) from None
    if not isinstance(output, dict):
        raise ValueError(f"{str(path)!r} is not a jetad run output: it holds a {type(output)}")
    return output


def histograms(output: dict) -> dict[str, hist.Hist]:
    """Every histogram of a processor's output by path: ``mjj``, ``score/vae``,
    ``features/lep_pt``…"""
    found = {}
    for key, value in output.items():
        if isinstance(value, hist.Hist):
            found[key] = value
        elif isinstance(value, dict):
            found.update({f"{key}/{k}": v for k, v in value.items() if isinstance(v, hist.Hist)})
    return found


def _root_path(name: str, categories: dict[str, str]) -> str:
    """``NAME/DATASET/MODEL/CUT`` for the nominal histogram, ``…/CUT__ISRUp`` for a weight
    variation (combine's ``process_systematicUp`` pattern)."""
    systematic = categories.get("systematic", "nominal")
    path = "/".join((name, *(v for c, v in categories.items() if c != "systematic")))
    return path if systematic == "nominal" else f"{path}__{systematic}"


def root_title(text: str) -> str:
    """A matplotlib mathtext label as ROOT's TLatex writes it: ``$m_{jj}$ [GeV]`` →
    ``m_{jj} [GeV]``, ``$\\epsilon_S$`` → ``#epsilon_S``."""
    return re.sub(r"\\([A-Za-z]+)", r"#\1", text.replace("$", ""))


def _plain(value):
    """numpy scalars (dask-awkward counts) as plain Python numbers for JSON."""
    return value.item()


def write_outputs(output: dict, directory: Path, skipped: list[str] = ()) -> list[Path]:
    """Write the histograms (coffea and ROOT), the cutflow and the plots to ``directory``.

    In ``histograms.root`` each histogram is split by category, as
    ``NAME/DATASET/MODEL[/CUT]``. ``cutflow.json`` also lists the events read per file and
    the ``skipped`` files.
    """
    import uproot
    from coffea.util import save

    from jetad.histograms import sculpting
    from jetad.plotting import plot_observable, plot_sculpting

    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "histograms.coffea", directory / "histograms.root"]
    save(output, written[0])
    found = histograms(output)
    with uproot.recreate(written[1]) as file:
        for name, h in found.items():
            categories = [a.name for a in h.axes if isinstance(a, hist.axis.StrCategory)]
            for values in itertools.product(*(list(h.axes[c]) for c in categories)):
                selection = dict(zip(categories, values, strict=True))
                one = h[selection]
                for axis in one.axes:
                    axis.label = root_title(axis.label)
                shown = [v for c, v in selection.items() if (c, v) != ("systematic", "nominal")]
                one.name = f"{name}: {', '.join(shown)}"  # uproot writes it as the TH1's title
                file[_root_path(name, selection)] = one
    cutflow = directory / "cutflow.json"
    summary = {
        "cutflow": output["cutflow"],
        "events_per_file": output.get("processed", {}),
        "skipped_files": list(skipped),
    }
    cutflow.write_text(json.dumps(summary, indent=2, default=_plain) + "\n")
    written.append(cutflow)
    for name, h in found.items():  # score/MODEL: the model is already the category
        written += plot_observable(h, directory, name.split("/")[0] if name.startswith("score/")
                                   else name.replace("/", "_"))  # fmt: skip
    masses = {name: h for name, h in found.items() if name in ("mjj", "mt")}
    measures = {
        name: {model: {dataset: sculpting(h, dataset, model) for dataset in h.axes["dataset"]}
               for model in h.axes["model"]}
        for name, h in masses.items()
    }  # fmt: skip
    if measures:
        written.append(directory / "sculpting.json")
        written[-1].write_text(json.dumps(measures, indent=2, allow_nan=True) + "\n")
        for name, h in masses.items():
            written += plot_sculpting(h, directory, name)
    return written
