"""Coffea processors that wire the jetad stages together, one analysis each, and the registry
of analyses that ``jetad run``, the demo and users' scripts choose from.

The registry is light: a processor class (and coffea) is imported only when it is used.

>>> from jetad.processors import ANALYSES
>>> ANALYSES["dijet"].feature_sets
('lhco',)
>>> processor = ANALYSES["svj"].build({"wnae": "wnae.pt"})      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module

__all__ = [
    "ANALYSES",
    "Analysis",
    "DijetAnomalyProcessor",
    "LeptonTriggerProcessor",
    "NtupleProcessor",
    "SemivisibleJetProcessor",
    "get_analysis",
]

_CLASSES = {
    "DijetAnomalyProcessor": "jetad.processors.dijet",
    "LeptonTriggerProcessor": "jetad.processors.lepton",
    "NtupleProcessor": "jetad.processors.ntuple",
    "SemivisibleJetProcessor": "jetad.processors.svj",
}


@dataclass(frozen=True)
class Analysis:
    """One analysis: its processor, the feature sets its models are trained on, and what it
    fills.

    Attributes:
        name: the name ``jetad run`` takes.
        processor: the processor class, as ``"ClassName"`` of :mod:`jetad.processors`.
        feature_sets: the feature sets its models may be trained on.
        fills: what it histograms, for help texts.
        options: keyword options of the processor that ``jetad run`` passes through
            (``{option: default}``); every other option keeps the processor's default.
        dask_awkward: whether it runs on dask-awkward inputs (``apply_to_fileset``).
    """

    name: str
    processor: str
    feature_sets: tuple[str, ...]
    fills: str
    options: Mapping[str, object] = field(default_factory=dict)
    dask_awkward: bool = False

    def processor_class(self) -> type:
        return getattr(import_module(_CLASSES[self.processor]), self.processor)

    def build(self, models: Mapping[str, str], **options):
        """The processor for ``{name: MODEL.pt}``; ``options`` outside :attr:`options` are
        refused in one line."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(
                f"analysis {self.name!r} takes no option {', '.join(unknown)}; "
                f"valid: {', '.join(self.options) or 'none'}"
            )
        return self.processor_class()(dict(models), **{**self.options, **options})

    def check_executor(self, executor: str, **options) -> None:
        """One line when ``executor`` cannot run this analysis with ``options``."""
        if executor == "dask-awkward" and not (self.dask_awkward
                                               and options.get("jets", "fatjet") == "fatjet"):
            raise ValueError("--executor dask-awkward runs the dijet analysis with --jets fatjet")

    def line(self) -> str:
        """One help line: name, class, features, histograms."""
        return (f"{self.name:7s} {self.processor}: {self.fills} "
                f"(models: {', '.join(self.feature_sets)})")  # fmt: skip


ANALYSES: dict[str, Analysis] = {
    a.name: a
    for a in (
        Analysis("dijet", "DijetAnomalyProcessor", ("lhco",), "lhco features, m_jj",
                 options={"jets": "fatjet"}, dask_awkward=True),  # fmt: skip
        Analysis("svj", "SemivisibleJetProcessor", ("svj8",), "svj8 jet features, m_jj and M_T"),
        Analysis("lepton", "LeptonTriggerProcessor", ("hlt21", "hlt18_nano"),
                 "l+X features and score"),  # fmt: skip
    )
}


def get_analysis(name: str) -> Analysis:
    """The registered analysis called ``name``; an unknown name lists the valid ones."""
    try:
        return ANALYSES[name]
    except KeyError:
        raise ValueError(f"unknown analysis {name!r}; valid: {', '.join(ANALYSES)}") from None


def __getattr__(name: str):
    if name in _CLASSES:
        return getattr(import_module(_CLASSES[name]), name)
    raise AttributeError(f"module 'jetad.processors' has no attribute {name!r}")
