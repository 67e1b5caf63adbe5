"""The bump hunt's statistics, measured: fit speed and agreement, spurious signal, false claims,
and the significance found against the one injected.

    python bench/bumphunt.py [--toys 200] [--spectra 100]

Background: m_jj of the cached 100k generated QCD dijet events after the processor's selection
(leading pT > 1.2 TeV, |Δη| < 1.3), and smooth toys of the dijet function fitted to it, scaled
to ``--events`` selected events. Signal: a Gaussian of the generated W′ → XY resolution
(σ/m = RESOLUTION, measured here on the cached W′ sample) at 3.5 TeV and at 4.5 TeV (mid-range),
injected at an expected S/√B within ±1σ of 0 to 5. Every figure is printed side by side in one
run.
"""

from __future__ import annotations

import argparse
import platform
import time

import awkward as ak
import numpy as np
import vector
from iminuit import Minuit
from scipy import stats

from _samples import sample
from jetad.bumphunt import (
    RESOLUTION,
    WIDTHS,
    Spectrum,
    bump_hunt,
    fit_background,
    fit_start,
    gaussian_signal,
    scan,
    spurious_signal,
)
from jetad.bumphunt.fit import _fit, _Integrator, _Likelihood, _starting_values
from jetad.histograms import MJJ_EDGES

vector.register_awkward()


def selected_mjj(path) -> np.ndarray:
    """m_jj (GeV) of the two leading fat jets of the events the DijetAnomalyProcessor selects
    (its ``DijetSelection``, jetad's ``dijet_mass``)."""
    from jetad.datasets import open_events
    from jetad.observables import dijet_mass
    from jetad.observables.dijet import DijetSelection

    jets = open_events(path).FatJet
    return ak.to_numpy(ak.drop_none(dijet_mass(jets[DijetSelection().passed(jets)])))


def resolution_of(mjj: np.ndarray) -> float:
    """Core σ/m of a peak: the normal-scaled median absolute deviation over the median."""
    return float(stats.median_abs_deviation(mjj, scale="normal") / np.median(mjj))


def fit_speed(spectrum: Spectrum, repeats: int = 30) -> None:
    print("\n## Fit: Newton (jetad) against Minuit MIGRAD on the same likelihood")
    k, s, edges = spectrum.effective(), spectrum.scale(), spectrum.edges
    used = np.ones(len(k), dtype=bool)
    print(f"{'parameters':>10} {'Newton [ms]':>12} {'Minuit [ms]':>12} {'ratio':>6} "
          f"{'-2lnL Newton':>13} {'-2lnL Minuit':>13}")  # fmt: skip
    for n in (3, 4, 5):
        start = _starting_values(k, s, edges, n)
        t0 = time.perf_counter()
        for _ in range(repeats):
            ours = _fit(k, s, edges, start, used)
        newton = (time.perf_counter() - t0) / repeats
        likelihood = _Likelihood(k, s, _Integrator(edges), used)
        t0 = time.perf_counter()
        for _ in range(repeats):
            minuit = Minuit(likelihood, start)
            minuit.errordef, minuit.strategy = Minuit.LEAST_SQUARES, 2
            minuit.migrad(ncall=20_000)
        migrad = (time.perf_counter() - t0) / repeats
        print(f"{n:>10} {newton * 1e3:>12.2f} {migrad * 1e3:>12.2f} {migrad / newton:>6.1f} "
              f"{ours.deviance:>13.3f} {minuit.fval:>13.3f}")  # fmt: skip


def spurious(qcd: Spectrum, smooth: np.ndarray, edges: np.ndarray, toys: int) -> None:
    print("\n## Spurious signal: S/σ_S fitted to background only (Gaussian of the resolution)")
    result = spurious_signal(qcd)
    print(f"generated QCD ({qcd.sumw.sum():.0f} events, {result.n_parameters}-parameter fit): "
          f"largest |S|/σ_S = {result.max_abs_ratio:.2f} "
          f"over {len(result.masses)} masses")  # fmt: skip
    for mass, ratio in zip(result.masses, result.ratio, strict=True):
        print(f"  m = {mass:6.0f} GeV  S/σ_S = {ratio:+.2f}")
    rng = np.random.default_rng(3)
    ratios = np.concatenate([
        spurious_signal(Spectrum.from_counts(rng.poisson(smooth), edges)).ratio
        for _ in range(toys)
    ])  # fmt: skip
    print(f"{toys} smooth toys: S/σ_S mean {ratios.mean():+.3f}, spread {ratios.std():.3f} "
          f"(unbiased: 0 and 1)")  # fmt: skip


def false_claims(smooth: np.ndarray, edges: np.ndarray, spectra: int, toys: int) -> None:
    print(f"\n## Background only: {spectra} smooth spectra, each hunted with {toys} toys")
    rng = np.random.default_rng(5)
    results = [
        bump_hunt(Spectrum.from_counts(rng.poisson(smooth), edges), n_toys=toys, seed=i)
        for i in range(spectra)
    ]
    global_z = np.array([r.global_significance for r in results])
    gof = np.array([r.gof_p_value for r in results])
    print(f"global Z > 2 in {np.mean(global_z > 2):.1%} (a calibrated test: 2.3%), largest "
          f"global Z {global_z.max():.2f}, median local Z "
          f"{np.median([r.local_significance for r in results]):.2f}")  # fmt: skip
    print(f"fit p-value (toys) < 0.05 in {np.mean(gof < 0.05):.1%} (calibrated: 5%)")


def injection(smooth: np.ndarray, edges: np.ndarray, toys: int, repeats: int, mass: float):
    print(f"\n## Injection at {mass:.0f} GeV (σ/m = {RESOLUTION}), {repeats} pseudo-experiments "
          f"each, {toys} toys")  # fmt: skip
    print(f"{'Z injected':>10} {'signal':>7} {'local Z':>14} {'global Z':>14} {'right window':>13} "
          f"{'known-b Z':>14}")  # fmt: skip
    unit = gaussian_signal(edges, mass, 1.0)
    centres = 0.5 * (edges[1:] + edges[:-1])
    core = np.abs(centres - mass) < RESOLUTION * mass
    rng = np.random.default_rng(7)
    for z in (0, 1, 2, 3, 4, 5):
        events = z * np.sqrt(smooth[core].sum()) / unit[core].sum()
        spectra = [rng.poisson(smooth + events * unit).astype(float) for _ in range(repeats)]
        found = [bump_hunt(Spectrum.from_counts(counts, edges), n_toys=toys, seed=r)
                 for r, counts in enumerate(spectra)]  # fmt: skip
        local = [f.local_significance for f in found]
        glob = [f.global_significance for f in found]
        right = np.mean([f.window[0] < mass < f.window[1] for f in found])
        # the same scan against the true background, as if it were known: what the fit costs
        known = [max(scan(counts, smooth, w).max() for w in WIDTHS) for counts in spectra]
        print(f"{z:>10} {events:>7.0f} {np.mean(local):>7.2f} ± {np.std(local):.2f} "
              f"{np.mean(glob):>7.2f} ± {np.std(glob):.2f} {right:>13.0%} "
              f"{np.mean(known):>7.2f} ± {np.std(known):.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=200)
    parser.add_argument("--spectra", type=int, default=100, help="background-only spectra")
    parser.add_argument("--repeats", type=int, default=10, help="pseudo-experiments per strength")
    parser.add_argument("--events", type=float, default=1e5, help="selected events in the toys")
    parser.add_argument("--only-injection", action="store_true", help="skip the other parts")
    args = parser.parse_args()
    print(f"# bench/bumphunt.py on {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")  # fmt: skip

    signal_mjj = selected_mjj(sample("wprime_xy", 5000))
    print(f"W′ → XY (3.5 TeV) m_jj resolution: σ/m = {resolution_of(signal_mjj):.3f} "
          f"(jetad.bumphunt.RESOLUTION = {RESOLUTION})")  # fmt: skip
    mjj = selected_mjj(sample("qcd_dijet", 100_000))
    counts, _ = np.histogram(mjj, MJJ_EDGES)
    full = Spectrum.from_counts(counts, MJJ_EDGES)
    first = fit_start(full)
    last = first + int(np.nonzero(counts[first:])[0][-1])
    qcd = full[first : last + 1]
    print(f"generated QCD: {len(mjj)} selected events, fit range {qcd.edges[0]:.0f}–"
          f"{qcd.edges[-1]:.0f} GeV ({len(qcd)} bins)")  # fmt: skip
    fit = fit_background(qcd)
    smooth = np.array(fit.expected) * args.events / np.sum(fit.expected)
    print(f"its fit: {len(fit.parameters)} parameters, χ²/ndf {fit.chi2_ndf:.2f}, "
          f"p-value {fit.p_value:.2f}; smooth toys of {args.events:.0f} events")  # fmt: skip

    if not args.only_injection:
        fit_speed(Spectrum.from_counts(np.random.default_rng(1).poisson(smooth), qcd.edges))
        spurious(qcd, smooth, qcd.edges, toys=20)
        false_claims(smooth, qcd.edges, args.spectra, args.toys)
    for mass in (3500.0, 4500.0):  # the W′ mass, and one in the middle of the fit range
        injection(smooth, qcd.edges, args.toys, args.repeats, mass)


if __name__ == "__main__":
    main()
