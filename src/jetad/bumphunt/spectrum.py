"""Binned m_jj spectra (Σw, Σw² per bin), the dijet function, a Gaussian signal of the m_jj
resolution, and the spectra of a run output; see :mod:`jetad.bumphunt`. m_jj in GeV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "MIN_EVENTS_IN_PEAK",
    "RESOLUTION",
    "SQRT_S",
    "WIDTHS",
    "MjjSpectra",
    "Spectrum",
    "dijet_function",
    "fit_start",
    "gaussian_signal",
    "mjj_spectra",
]

SQRT_S = 13_000.0
#: Relative m_jj resolution σ/m of the generated W′ → XY peak (core, from bench/bumphunt.py).
RESOLUTION = 0.065
#: Window widths scanned by default, in bins of the resolution-following binning.
WIDTHS = (2, 3, 4, 5, 6)
#: The spurious-signal test's masses need this many effective background events within ±1 σ.
MIN_EVENTS_IN_PEAK = 10


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A binned m_jj spectrum: Σw and Σw² per bin and the bin edges (GeV)."""

    sumw: np.ndarray
    sumw2: np.ndarray
    edges: np.ndarray

    def __post_init__(self):
        sumw, sumw2, edges = (
            np.asarray(a, dtype=float) for a in (self.sumw, self.sumw2, self.edges)
        )
        if sumw.ndim != 1 or sumw2.shape != sumw.shape or len(edges) != len(sumw) + 1:
            raise ValueError(
                f"expected counts of n bins and n + 1 edges, got {sumw.shape}, {edges.shape}"
            )
        if np.any(np.diff(edges) <= 0) or np.any(sumw < 0) or np.any(sumw2 < 0):
            raise ValueError("a spectrum needs increasing edges and non-negative Σw, Σw²")
        object.__setattr__(self, "sumw", sumw)
        object.__setattr__(self, "sumw2", sumw2)
        object.__setattr__(self, "edges", edges)

    @classmethod
    def from_counts(cls, counts, edges) -> Spectrum:
        """Unit-weight counts (data or pseudo-data): Σw² = Σw."""
        return cls(np.asarray(counts, float), np.asarray(counts, float), edges)

    @classmethod
    def from_hist(cls, histogram) -> Spectrum:
        """A one-axis ``hist.Hist``; ``Weight`` storage gives Σw², plain counts are unit weight."""
        edges = histogram.axes[0].edges
        variances = histogram.variances()
        sumw = histogram.values()
        return cls(sumw, sumw if variances is None else variances, edges)

    @property
    def unit_weight(self) -> bool:
        """Whether every bin holds unit-weight events (Σw² = Σw)."""
        return bool(np.allclose(self.sumw2, self.sumw, rtol=1e-9, atol=1e-12))

    def scale(self) -> np.ndarray:
        """The weight s = Σw²/Σw of each bin's effective events; empty bins take their filled
        neighbours' (interpolated in bin index)."""
        filled = self.sumw > 0
        if not filled.any():
            return np.ones_like(self.sumw)
        index = np.arange(len(self.sumw))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.sumw2 / self.sumw
        return np.interp(index, index[filled], ratio[filled])

    def effective(self) -> np.ndarray:
        """The effective number of events (Σw)²/Σw² per bin, Σw itself for unit weights."""
        return self.sumw / self.scale()

    def __getitem__(self, bins: slice) -> Spectrum:
        """The bins ``bins`` (a slice with step 1) with their edges."""
        start, stop, _ = bins.indices(len(self.sumw))
        return Spectrum(self.sumw[bins], self.sumw2[bins], self.edges[start : stop + 1])

    def __len__(self) -> int:
        return len(self.sumw)


def dijet_function(mjj: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """The dijet function at ``mjj`` (GeV) for 3, 4 or 5 parameters (events per GeV)."""
    x = np.asarray(mjj, dtype=float) / SQRT_S
    p = np.zeros(5)
    p[: len(parameters)] = parameters
    log_x = np.log(x)
    return p[0] * (1 - x) ** p[1] * x ** -(p[2] + p[3] * log_x + p[4] * log_x**2)


def gaussian_signal(edges: np.ndarray, mass: float, events: float, resolution: float = RESOLUTION):
    """Expected counts per bin of ``events`` signal events in a Gaussian peak at ``mass`` (GeV)
    with σ = ``resolution`` × mass."""
    return events * np.diff(stats.norm.cdf(np.asarray(edges, float), mass, resolution * mass))


def fit_start(spectrum: Spectrum, margin_bins: int = 1) -> int:
    """The first bin of the fit range: ``margin_bins`` above the bin where dN/dm_jj peaks, so
    that the fit starts above the turn-on whatever the selection or the anomaly cut."""
    density = spectrum.sumw / np.diff(spectrum.edges)
    return min(int(np.argmax(density)) + 1 + margin_bins, len(spectrum) - 1)


@dataclass(frozen=True)
class MjjSpectra:
    """The m_jj spectra of a run output (``histograms.coffea``) summed over ``datasets`` and
    scaled by ``luminosity`` (pb⁻¹; Σw by L, Σw² by L²), per model and cut."""

    histogram: object
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    luminosity: float

    def spectrum(self, model: str, cut: str) -> Spectrum:
        from jetad.histograms import nominal

        selected = nominal(self.histogram)[{"model": model, "cut": cut}]
        summed = sum(selected[{"dataset": d}] for d in self.datasets)
        spectrum = Spectrum.from_hist(summed)
        return Spectrum(spectrum.sumw * self.luminosity, spectrum.sumw2 * self.luminosity**2,
                        spectrum.edges)  # fmt: skip

    def fit_range(
        self, model: str, cut: str, mjj_min: float | None, widest: int
    ) -> tuple[Spectrum | None, str]:
        """The spectrum from ``mjj_min`` (GeV; by default :func:`fit_start`) to its last filled
        bin, or None and the reason when too few bins are filled for the fit and the widest
        window."""
        spectrum = self.spectrum(model, cut)
        first = (
            fit_start(spectrum)
            if mjj_min is None
            else int(np.searchsorted(spectrum.edges, mjj_min))
        )
        filled = np.nonzero(spectrum.sumw[first:])[0]
        needed = max(8, widest + 3)
        if len(filled) < needed:
            low = spectrum.edges[min(first, len(spectrum) - 1)]
            return None, f"fewer than {needed} filled m_jj bins above {low:.0f} GeV"
        return spectrum[first : first + int(filled[-1]) + 1], ""

    def passed_and_failed(self, model: str, cut: str) -> tuple[Spectrum, Spectrum]:
        """The spectra of the events ``cut`` keeps and of those it rejects (no cut minus cut:
        each event is in exactly one)."""
        passed, everything = self.spectrum(model, cut), self.spectrum(model, "none")
        sumw = np.maximum(everything.sumw - passed.sumw, 0.0)
        sumw2 = np.maximum(everything.sumw2 - passed.sumw2, 0.0)
        return passed, Spectrum(sumw, sumw2, passed.edges)

    def between(self, model: str, cut: str, low: float, high: float) -> Spectrum:
        """The spectrum's bins between the edges ``low`` and ``high`` (GeV)."""
        spectrum = self.spectrum(model, cut)
        first, last = np.searchsorted(spectrum.edges, [low, high])
        return spectrum[int(first) : int(last)]


def mjj_spectra(output: dict, path, datasets: Sequence[str], cuts: Sequence[str],
                luminosity: float | None = 1.0) -> MjjSpectra:  # fmt: skip
    """The m_jj spectra of the run output ``output`` read from ``path``, checked: one-line
    ValueErrors name a missing m_jj histogram or axis, an unknown dataset or cut, a file of
    several datasets without a choice, and a luminosity given for unit-weight data.
    ``luminosity=None`` leaves the weights as they are."""
    histogram = output.get("mjj")
    if histogram is None:
        raise ValueError(f"{path} has no m_jj histogram ('mjj'); it holds {sorted(output)}")
    axes = [axis.name for axis in histogram.axes]
    for needed in ("mjj", "dataset", "model", "cut"):
        if needed not in axes:
            raise ValueError(f"the 'mjj' histogram of {path} has no {needed!r} axis: {axes}")
    available = list(histogram.axes["dataset"])
    if not datasets:
        if len(available) != 1:
            raise ValueError(
                f"{path} holds datasets {available}: choose the spectrum with --dataset "
                "(signal simulation is never summed into data unasked)"
            )
        datasets = available
    unknown = [d for d in datasets if d not in available]
    if unknown:
        raise ValueError(f"no dataset {unknown} in {path}; available: {available}")
    cut_names = list(histogram.axes["cut"])
    for cut in ("none", *cuts):
        if cut not in cut_names:
            raise ValueError(f"no cut {cut!r} in {path}; available: {cut_names}")
    spectra = MjjSpectra(histogram, tuple(datasets), tuple(histogram.axes["model"]), 1.0)
    if luminosity is None or luminosity == 1.0:
        return spectra
    if spectra.spectrum(spectra.models[0], "none").unit_weight:
        raise ValueError(
            f"datasets {list(datasets)} of {path} hold unit-weight events (data or pseudo-data "
            "without a cross-section): --luminosity scales only simulation; leave it at 1"
        )
    return MjjSpectra(histogram, tuple(datasets), spectra.models, float(luminosity))
