"""Feature and score ntuples for production jobs, as a coffea processor (wiring only)."""

from __future__ import annotations

from coffea import processor

from jetad.features import get_feature_set
from jetad.ntuples import chunk_path, chunk_rows, ntuple_rows, write_chunk
from jetad.scoring import AnomalyScorer


class NtupleProcessor(processor.ProcessorABC):
    """Write the ``feature_set`` features and every model's scores of each chunk to its own file
    under ``output`` (see :mod:`jetad.ntuples`); chunks whose file exists are skipped, so a
    killed job resumes where it stopped.

    Runs under coffea's ``Runner`` (any executor); it returns, per chunk file, the input
    file, entry range, events read and rows written, for the manifest.

    Args:
        feature_set: a registered set (``lhco``, ``svj8``, ``hlt21``…).
        models: ``{name: MODEL.pt}`` of models trained on ``feature_set``.
        output: the directory for the chunk files.
        fmt: ``"parquet"`` or ``"root"``.
    """

    def __init__(self, feature_set: str, models: dict[str, str], output: str,
                 fmt: str = "parquet"):  # fmt: skip
        self.feature_set = get_feature_set(feature_set)
        self.scorers = {
            name: AnomalyScorer(path, feature_set=feature_set) for name, path in models.items()
        }
        self.output, self.fmt = str(output), fmt

    def process(self, events):
        meta = events.metadata
        start, stop = meta["entrystart"], meta["entrystop"]
        path = chunk_path(self.output, meta["dataset"], meta["filename"], start, stop, self.fmt)
        resumed = path.exists()
        if not resumed:
            write_chunk(ntuple_rows(events, self.feature_set, self.scorers), path, self.fmt)
        entry = {
            "dataset": meta["dataset"],
            "file": meta["filename"],
            "entrystart": start,
            "entrystop": stop,
            "events": stop - start,
            "rows": chunk_rows(path),
            "resumed": resumed,
        }
        return {
            "chunks": {str(path.relative_to(self.output)): entry},
            "processed": {meta["filename"]: stop - start},
        }

    def postprocess(self, accumulator):
        return accumulator
