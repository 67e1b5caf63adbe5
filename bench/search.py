"""Signal injection: what each search method finds, at several S/B, and on background only.

    python bench/search.py [--toys 200] [--epochs 30] [--s-over-b ...] [--large]
                           [--methods vae cwola cathode] [--vae-members 1] [--mjj-knots N]
                           [--injected-only | --background-only] [--background-sets 5]

Background: the cached generated QCD dijets (100k events of seed 1 and 130k of seed 2) after the
dijet processor's selection (lead pT > 1.2 TeV, |Δη| < 1.3), about 106k events; with ``--large``
200k more of seed 3 (generated on first use, about 30 minutes on 2 cores), about 198k: at a
fixed S/B the significance any cut can reach grows as the square root of the sample. Signal: the
cached W′ → X(qq)Y(qq) (3.5 TeV) events after the same selection, injected at S/B ∈ {0.3%, 0.5%,
1%, 3%} *within ±1σ of the peak* (σ/m = 0.065).
Every method is trained on the pseudo-data itself, without the truth, then cut at 10% and 1% of
the pseudo-data, and two bump hunts (every width, ``--toys`` toys) run on the m_jj spectrum
after the cut: ``fit``, the dijet function fitted to the kept events (``jetad.bumphunt
.bump_hunt``), and ``ratio``, the fraction of each bin's events that the cut keeps against a
fraction smooth in ln m_jj (``jetad.bumphunt.pass_fraction_hunt``: the rejected events carry the
spectrum's shape; on the m_jj-following cuts only, whose QCD fraction is flat). A perfect tagger
(every W′ kept, with a random 10% or 1% of the QCD) is hunted first: the ceiling of each hunt at
each S/B, whatever the method. The methods:

- ``none``: the bump hunt without a cut;
- ``vae``: the VAE of Bortolato et al. (``TrainConfig.for_model("vae")``, ``--vae-members``), its
  primary score (the KL to the background's latent distribution), fixed thresholds;
- ``vae_mjj``: the same score, thresholds following m_jj (quantile regression,
  ``jetad.decorrelation``: a spline in ln m_jj with as many knots as the sample affords, at most
  8; ``--mjj-knots 0`` for the quadratic of earlier runs), fitted on the pseudo-data;
- ``vae_sim``: the same score, thresholds following m_jj fitted on an independent QCD sample
  (200k more generated with seed 3, about 92k selected; not with ``--large``, which searches
  them): what the demo and a search calibrated on simulation do. The in-sample fit of
  ``vae_mjj`` keeps the QCD fraction flat *with* the signal in it, so the pass-fraction hunt
  cannot see a signal through it (at S/B = 3% it found nothing after vae_mjj's 1% cut);
- ``vae_sb``: the same score, thresholds following m_jj fitted on the pseudo-data *outside*
  the signal region of the hypothesis (m × (1 ± 8%)) and interpolated across it, so that a
  signal inside cannot pull them; trained for every hypothesis (global Z corrected like the
  weakly supervised methods');
- ``cwola``, ``cwola_mjj``: CWoLa hunting (``jetad.weak_supervision.cwola``): signal region
  (SR) m × (1 ± 8%) against its sidebands (the next 8% on each side), 5 folds; fixed and
  m_jj-following thresholds;
- ``cathode_mjj``: CATHODE (``jetad.weak_supervision.cathode``): a flow learns p(x | m_jj)
  outside the SR, is sampled 4× in it, a 5-fold classifier (5 seeds per fold) separates SR
  data from the samples; m_jj-following thresholds;
- ``cathode_sb``: the same score, its m_jj-following thresholds fitted outside the SR (as
  ``vae_sb``).

The weakly supervised methods are trained for one signal-region hypothesis, at the true mass,
on the injected sets; a search would scan ``HYPOTHESES`` (3.0, 3.5, 4.0 TeV), so their global
significance is corrected for 3 hypotheses (Šidák, p → 1 − (1 − p)³: conservative). They, and
``vae_sb``, are hunted only in windows centred in their signal region (``region`` of the
hunts; the toys likewise): a classifier of one region says nothing about m_jj elsewhere (hunted
everywhere, CATHODE's 10% cut found 4.05σ local at 6.45–7.25 TeV on the QCD alone). On the
background alone every hypothesis is trained and the largest global significance is printed.

A search reports the most significant of all the hunts it ran, so its global significance is
that hunt's corrected for the number of tests it chose among (``jetad.bumphunt
.trials_corrected``, Šidák: conservative for hunts of one spectrum after nested cuts): each
method is a search over its cuts and hunts, and the whole run (every method) is one more. On
background alone ``N`` calibrated hunts give a largest global Z above 2σ with probability
1 − 0.977^N (more than one time in three for 20), so the goal "global < 2σ on every
background-only set" is a statement about the searches, printed per set and method.

Printed per S/B and method: AUC, SIC_max and SIC at ε_S = 0.5 (SIC½) of the score on the truth
(in the SR for the weakly supervised methods), for each hunt the window found, whether it holds
3.5 TeV, the local and global significance, and for the m_jj-following cuts the signal kept when
the thresholds are fitted on the QCD alone (``oracle``: what the in-sample fit absorbs shows as
the difference), and each search's most significant test and global Z; then the
background-only rows: the largest global significance of one hunt and of each search, on the
whole background and on ``--background-sets`` disjoint parts of it (independent background-only
sets, each a fraction of the size).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from _samples import search_qcd, selected_rows
from jetad.bumphunt import (
    Spectrum,
    bump_hunt,
    fit_start,
    pass_fraction_hunt,
    search_significance,
    trials_corrected,
)
from jetad.decorrelation import fit_quantile_threshold, quantile_threshold
from jetad.features import FEATURE_SETS
from jetad.histograms import MJJ_EDGES
from jetad.models import TrainConfig, figures_of_merit, train
from jetad.weak_supervision import SignalRegion, cathode, cwola

MASS, RESOLUTION = 3500.0, 0.065
HYPOTHESES = (3000.0, 3500.0, 4000.0)
S_OVER_B = (0.003, 0.005, 0.01, 0.03)
EFFICIENCIES = {"eff10": 0.10, "eff1": 0.01}
#: The two bump hunts run on every cut (see ``hunt``).
HUNTS = ("fit", "ratio")


def core(mjj: np.ndarray) -> np.ndarray:
    """Within ±1σ of the W′ peak."""
    return np.abs(mjj - MASS) < RESOLUTION * MASS


def pseudo_data(qcd: np.ndarray, wprime: np.ndarray, s_over_b: float, rng) -> tuple:
    """QCD plus W′ events at ``s_over_b`` within ±1σ of the peak: (rows, truth label)."""
    peak_fraction = core(wprime[:, -1]).mean()
    n_signal = int(round(s_over_b * core(qcd[:, -1]).sum() / peak_fraction))
    chosen = wprime[rng.choice(len(wprime), n_signal, replace=False)]
    rows = np.concatenate([qcd, chosen])
    return rows, np.concatenate([np.zeros(len(qcd)), np.ones(n_signal)])


def vae_score(rows: np.ndarray, epochs: int, seed: int, members: int = 1,
              simulation: np.ndarray | None = None) -> tuple:  # fmt: skip
    """The VAE trained on ``rows``: its primary score of ``rows`` and of ``simulation`` (None
    without)."""
    import torch

    from jetad.models.export import ScoringModel

    config = TrainConfig.for_model("vae", epochs=epochs, seed=seed, ensemble=members,
                                   torch_compile=members > 1)  # fmt: skip
    trained = train(rows[:, :-1], config)
    model = ScoringModel(trained.preprocessing, trained.members).eval()
    with torch.no_grad():
        scores = [None if r is None else model(torch.from_numpy(r[:, :-1])).numpy()[:, 0]
                  for r in (rows, simulation)]  # fmt: skip
    return tuple(scores)


def hunt(mjj: np.ndarray, keep: np.ndarray, toys: int, how: str = "fit",
         region: tuple[float, float] | None = None) -> dict:  # fmt: skip
    """The bump hunt on the kept events' m_jj: ``fit``, the dijet function fitted to them
    (``jetad.bumphunt.bump_hunt``); ``ratio``, their fraction of all events per bin against a
    smooth fraction (``jetad.bumphunt.pass_fraction_hunt``); only windows centred in
    ``region`` (GeV) when given."""
    counts, _ = np.histogram(mjj[keep], MJJ_EDGES)
    full = Spectrum.from_counts(counts, MJJ_EDGES)
    if how == "ratio":
        failed = Spectrum.from_counts(np.histogram(mjj[~keep], MJJ_EDGES)[0], MJJ_EDGES)
        try:
            result = pass_fraction_hunt(full, failed, n_toys=toys, region=region)
        except ValueError:  # too few bins keep an event, or none in the region
            return {"window": None, "local": np.nan, "global": np.nan}
    else:
        first = fit_start(full)
        filled = np.nonzero(counts[first:])[0]
        if len(filled) < 9:
            return {"window": None, "local": np.nan, "global": np.nan}
        try:
            result = bump_hunt(full[first : first + int(filled[-1]) + 1], n_toys=toys,
                               region=region)  # fmt: skip
        except ValueError:  # the fit range holds no window of the region
            if region is None:
                raise
            return {"window": None, "local": np.nan, "global": np.nan}
    return {"window": result.window, "local": result.local_significance,
            "global": result.global_significance}  # fmt: skip


_trained_vae: list = [None, None]  # the pseudo-dataset the VAE was last trained on, its scores


def methods(rows: np.ndarray, args, seed: int, mass: float) -> dict:
    """Every method's score (None: no cut), whether its thresholds follow m_jj, and the
    events its truth figures are taken on. The VAE is trained once per pseudo-dataset."""
    x, mjj, names = rows[:, :-1], rows[:, -1], FEATURE_SETS["lhco"].names
    region = SignalRegion(mass)
    everywhere, inside = np.ones(len(rows), dtype=bool), region.contains(mjj)
    found = {"none": (None, False, everywhere)}
    if "vae" in args.methods:
        if _trained_vae[0] is not rows:  # one VAE per pseudo-dataset, whatever the hypothesis
            _trained_vae[:] = [rows, vae_score(rows, args.epochs, seed, args.vae_members,
                                               args.simulation)]  # fmt: skip
        vae, simulated = _trained_vae[1]
        if mass == MASS:
            found |= {"vae": (vae, False, everywhere), "vae_mjj": (vae, True, everywhere)}
        if simulated is not None and mass == MASS:  # thresholds from an independent sample
            found["vae_sim"] = (vae, (simulated, args.simulation[:, -1]), everywhere)
        # thresholds fitted on the pseudo-data outside the hypothesis' signal region
        found["vae_sb"] = (vae, (vae[~inside], mjj[~inside]), everywhere)
    if "cwola" in args.methods:
        score = cwola(x, mjj, region, names).score
        found |= {"cwola": (score, False, inside), "cwola_mjj": (score, True, inside)}
    if "cathode" in args.methods:
        score = cathode(x, mjj, region, names).score
        found["cathode_mjj"] = (score, True, inside)
        # thresholds fitted outside the signal region, where the in-sample fit cannot follow
        # a signal (at S/B = 3% it kept 204 of the 272 W′ events the QCD-alone fit keeps)
        found["cathode_sb"] = (score, (score[~inside], mjj[~inside]), inside)
    return found


def supervised_ceiling(qcd: np.ndarray, wprime: np.ndarray) -> dict:
    """What the weakly supervised methods could reach at best: CATHODE's classifier trained
    on the truth (W′ against QCD in the signal region at 3.5 TeV, on the same inputs), tested
    on the other half."""
    import torch

    from jetad.weak_supervision import INPUTS, ClassifierConfig, train_classifier

    region = SignalRegion(MASS)
    columns = [FEATURE_SETS["lhco"].names.index(n) for n in INPUTS]
    b = qcd[region.contains(qcd[:, -1])][:, columns]
    w = wprime[region.contains(wprime[:, -1])][:, columns]
    x, y = np.concatenate([b, w]), np.r_[np.zeros(len(b)), np.ones(len(w))]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    half = np.random.default_rng(0).random(len(x)) < 0.5
    network = train_classifier(x[half], y[half], ClassifierConfig(), seed=1)
    with torch.no_grad():
        score = network(torch.from_numpy(x[~half].astype(np.float32))).numpy()
    return figures_of_merit(score[y[~half] == 0], score[y[~half] == 1])


def perfect_tagger(qcd: np.ndarray, wprime: np.ndarray, args) -> None:
    """What each bump hunt finds when the cut is perfect: every W′ event kept with a random
    10% or 1% of the QCD (the statistics' ceiling at each S/B, whatever the method)."""
    print("\nperfect tagger: every injected W′ kept, with a random fraction of the QCD")
    print(f"{'S/B':>5} {'QCD kept':>8} {'S/√B ±1σ':>9} {'fit window':>12} {'local':>6} "
          f"{'global':>6} {'ratio window':>12} {'local':>6} {'global':>6}")  # fmt: skip
    for s_over_b in args.s_over_b:
        rows, truth = pseudo_data(qcd, wprime, s_over_b, np.random.default_rng(1))
        mjj, random = rows[:, -1], np.random.default_rng(2).random(len(rows))
        for efficiency in EFFICIENCIES.values():
            keep = (truth == 1) | (random < efficiency)
            inside = keep & core(mjj)
            ratio = inside[truth == 1].sum() / np.sqrt(max(inside[truth == 0].sum(), 1))
            found = [hunt(mjj, keep, args.toys, how) for how in HUNTS]
            print(f"{s_over_b:>5.1%} {efficiency:>8.0%} {ratio:>9.2f} "
                  + " ".join(_columns(f) for f in found), flush=True)  # fmt: skip


def evaluate(rows, truth, args, seed, mass: float = MASS) -> list[tuple]:
    mjj, lines = rows[:, -1], []
    for name, (score, follows_mjj, where) in methods(rows, args, seed, mass).items():
        quality = ("", "", "")
        if score is not None and truth[where].any():
            fom = figures_of_merit(score[where & (truth == 0)], score[where & (truth == 1)])
            sic_half = 0.5 * np.sqrt(fom["inverse_eff_b_at_eff_s_0p5"])
            quality = (f"{fom['auc']:.3f}", f"{fom['sic_max']:.2f}", f"{sic_half:.2f}")
        cuts = {"none": None} if score is None else EFFICIENCIES
        for cut, efficiency in cuts.items():
            oracle_kept = ""
            if score is None:
                keep = np.ones(len(mjj), dtype=bool)
            elif follows_mjj is not True and follows_mjj is not False:  # on another sample
                simulated, simulated_mjj = follows_mjj
                fit = fit_quantile_threshold(simulated, simulated_mjj, efficiency,
                                             knots=args.mjj_knots)  # fmt: skip
                keep = score > quantile_threshold(fit, mjj)
            elif follows_mjj:
                fit = fit_quantile_threshold(score, mjj, efficiency, knots=args.mjj_knots)
                keep = score > quantile_threshold(fit, mjj)
                if truth.any():  # the signal the same thresholds keep when fitted on QCD alone
                    qcd = truth == 0
                    oracle = fit_quantile_threshold(score[qcd], mjj[qcd], efficiency,
                                                    knots=args.mjj_knots)  # fmt: skip
                    passed = score[~qcd] > quantile_threshold(oracle, mjj[~qcd])
                    oracle_kept = f" ({int(passed.sum())})"
            else:
                keep = score > np.quantile(score, 1 - efficiency)
            found = {}
            # a method trained for one signal region is hunted in that region only (its
            # score means nothing elsewhere), and corrected for the hypotheses a search scans
            per_hypothesis = name.startswith(("cwola", "cathode", "vae_sb"))
            region = SignalRegion(mass).edges if per_hypothesis else None
            # the pass-fraction hunt needs a fraction that a quadratic logit in ln m_jj can
            # follow: on the QCD alone the VAE's fixed cuts gave 4.2σ local (2.6 global) and
            # CWoLa's, whose classifier tells the signal region from its sidebands, 622σ; the
            # m_jj-following cuts keep a flat fraction by construction
            for how in HUNTS if follows_mjj is not False else ("fit",):
                found[how] = hunt(mjj, keep, args.toys, how, region)
                if per_hypothesis:
                    found[how]["global"] = trials_corrected(found[how]["global"],
                                                            len(HYPOTHESES))  # fmt: skip
            kept = f"{int((truth[keep] == 1).sum())}{oracle_kept}"
            lines.append((name, cut, *quality, kept, found))
    return lines


def _columns(found: dict | None) -> str:
    if not found:
        return f"{'':>12} {'':>4} {'':>6} {'':>6}"
    window = found["window"]
    text = "—" if window is None else f"{window[0]:.0f}–{window[1]:.0f}"
    right = "yes" if window is not None and window[0] < MASS < window[1] else "no"
    return f"{text:>12} {right:>4} {found['local']:>6.2f} {found['global']:>6.2f}"


def show(title: str, lines: list[tuple]) -> None:
    print(f"\n## {title}")
    print(f"{'':>57} {'dijet-function fit':^31} {'pass fraction':^31}")
    heading = f"{'window [GeV]':>12} {'3.5?':>4} {'local':>6} {'global':>6}"
    print(f"{'method':>11} {'cut':>6} {'AUC':>6} {'SICmax':>6} {'SIC½':>6} "
          f"{'signal (oracle)':>15} {heading} {heading}")  # fmt: skip
    for name, cut, auc, sic, sic_half, kept, found in lines:
        print(f"{name:>11} {cut:>6} {auc:>6} {sic:>6} {sic_half:>6} {kept:>15} "
              f"{_columns(found.get('fit'))} {_columns(found.get('ratio'))}", flush=True)


def search_result(lines: list[tuple], methods: tuple[str, ...] | None = None):
    """What a search made of every test in ``lines`` (one per method, cut and hunt; of
    ``methods`` only, if given) reports on one dataset (``search_significance``): the most
    significant test and its global Z corrected for all the tests it chose among. A test seen
    several times (the hypotheses of a background-only set) counts once, at its largest global
    Z; the per-hypothesis methods' own Z are already corrected for the hypotheses."""
    tests = {}
    for method, cut, *_, found in lines:
        if methods is not None and method not in methods:
            continue
        for how, result in found.items():
            key = (method, cut, how)
            if not np.isnan(result["global"]) and (
                key not in tests or result["global"] > tests[key]["global"]
            ):
                tests[key] = result
    significance = search_significance({k: r["global"] for k, r in tests.items()},
                                       tiebreak={k: r["local"] for k, r in tests.items()})
    return significance, tests.get(significance.test)


def show_search(title: str, result) -> None:
    """One line: the most significant test of a search and its trials-corrected global Z."""
    significance, best = result
    if significance.test is None:
        print(f"{title}: no hunt ran")
        return
    method, cut, how = significance.test
    window = best["window"]
    where = "—" if window is None else f"{window[0]:.0f}–{window[1]:.0f} GeV"
    holds = window is not None and window[0] < MASS < window[1]
    print(f"{title}: most significant of {significance.trials} tests {method} {cut} {how}, "
          f"{where}{' (holds 3.5 TeV)' if holds else ''}, local {best['local']:.2f}, global "
          f"{best['global']:.2f} -> the search's global Z "
          f"{significance.global_significance:.2f}", flush=True)


def _method_names(lines: list[tuple]) -> list[str]:
    return list(dict.fromkeys(method for method, *_ in lines))


def background_only(qcd: np.ndarray, args) -> None:
    """Every method and hypothesis on the whole QCD, then on ``args.background_sets``
    disjoint parts of it; prints the largest global significance of each set."""
    part = np.random.default_rng(7).integers(0, max(args.background_sets, 1), len(qcd))
    sets = {"all": qcd} | {f"part {k + 1}/{args.background_sets}": qcd[part == k]
                           for k in range(args.background_sets)}  # fmt: skip
    largest, per_method, searches = {}, {}, {}
    for name, rows in sets.items():
        worst = {how: [] for how in HUNTS}
        every = []
        for mass in HYPOTHESES:
            lines = evaluate(rows, np.zeros(len(rows)), args, seed=1, mass=mass)
            every += lines
            show(f"background only ({name}, {len(rows)} events), signal region at "
                 f"{mass / 1000:.1f} TeV", lines)  # fmt: skip
            for method, cut, *_, found in lines:
                for how, result in found.items():
                    worst[how].append(result["global"])
                    per_method.setdefault((method, cut, how), []).append(
                        (result["local"], result["global"])
                    )
        largest[name] = {how: float(np.nanmax(z)) for how, z in worst.items()}
        print(f"largest global Z on background only ({name}): "
              + ", ".join(f"{how} {z:.2f}" for how, z in largest[name].items()), flush=True)
        for method in _method_names(every):
            searches.setdefault(method, {})[name] = search_result(every, (method,))
        searches.setdefault("all", {})[name] = search_result(every)
        show_search(f"the search on background only ({name}), every method", searches["all"][name])
    print("\nlargest local / global Z on background only, every set and hypothesis:")
    for (method, cut, how), values in per_method.items():
        local, glob = np.nanmax(np.array(values, dtype=float), axis=0)
        print(f"{method:>11} {cut:>6} {how:>6} {local:>8.2f} {glob:>8.2f}")
    for how in HUNTS:
        print(f"\nlargest global Z of one hunt per background-only set ({how}): "
              + ", ".join(f"{name} {z[how]:.2f}" for name, z in largest.items())
              + f"; largest of all {max(z[how] for z in largest.values()):.2f}",
              flush=True)  # fmt: skip
    print("\nglobal Z of each search on each background-only set, corrected for the cuts and "
          "hunts it chose among (trials in brackets):")
    for method, per_set in searches.items():
        cells = "  ".join(f"{z.global_significance:5.2f} ({z.trials})" for z, _ in per_set.values())
        largest_z = np.nanmax([z.global_significance for z, _ in per_set.values()])
        print(f"{method:>11} {cells}  largest {largest_z:.2f}", flush=True)
    print(f"largest global Z of the whole search (every method) on a background-only set: "
          f"{np.nanmax([z.global_significance for z, _ in searches['all'].values()]):.2f} "
          "(goal < 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=30, help="VAE epochs")
    parser.add_argument("--s-over-b", type=float, nargs="*", default=S_OVER_B,
                        help="injected S/B values (none: background only)")  # fmt: skip
    parser.add_argument("--ceiling-only", action="store_true",
                        help="print the supervised and perfect-tagger ceilings and stop")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--injected-only", action="store_true",
                      help="skip the background-only rows (run them once before any claim)")
    only.add_argument("--background-only", action="store_true",
                      help="only the background-only rows")
    parser.add_argument("--methods", nargs="+", choices=("vae", "cwola", "cathode"),
                        default=["vae", "cwola", "cathode"], help="the methods to run")
    parser.add_argument("--vae-members", type=int, default=1,
                        help="VAE ensemble members (stacked, through torch.compile when > 1); "
                             "the score is their mean")
    parser.add_argument("--mjj-knots", type=int, default=None,
                        help="knots of the m_jj-following thresholds' spline (0: a quadratic "
                             "in ln m_jj; default: jetad.decorrelation.auto_knots)")
    parser.add_argument("--large", action="store_true",
                        help="search about 198k selected QCD events instead of 106k")
    parser.add_argument("--background-sets", type=int, default=5,
                        help="disjoint parts of the QCD, each searched on its own "
                             "(0: the whole QCD only)")
    args = parser.parse_args()
    print(f"# bench/search.py on {platform.machine()}, python {platform.python_version()}")
    qcd = search_qcd(args.large)
    # an independent QCD sample (200k generated with seed 3, disjoint from the 106k) to fit
    # the vae_sim thresholds on, as the demo fits them on its QCD simulation
    args.simulation = (selected_rows("qcd_dijet", 200_000, seed=3)
                       if "vae" in args.methods and not args.large else None)  # fmt: skip
    if args.simulation is not None:
        print(f"{len(args.simulation)} selected QCD events of seed 3 to fit vae_sim's "
              "thresholds on")
    wprime = selected_rows("wprime_xy", 5000)
    print(f"{len(qcd)} selected QCD events, {len(wprime)} selected W′ events")
    ceiling = supervised_ceiling(qcd, wprime)
    print(f"supervised ceiling in the signal region (truth labels, same inputs): AUC "
          f"{ceiling['auc']:.3f}, SIC_max {ceiling['sic_max']:.2f} "
          f"({ceiling['n_background']} QCD, {ceiling['n_signal']} W′ test events)", flush=True)
    perfect_tagger(qcd, wprime, args)
    if args.ceiling_only:
        return
    start = time.perf_counter()
    if not args.injected_only:  # a claim here means a broken method
        background_only(qcd, args)
    for s_over_b in () if args.background_only else args.s_over_b:
        rows, truth = pseudo_data(qcd, wprime, s_over_b, np.random.default_rng(1))
        n_core, b_core = int(truth[core(rows[:, -1])].sum()), int(core(qcd[:, -1]).sum())
        lines = evaluate(rows, truth, args, seed=1)
        show(f"S/B = {s_over_b:.1%} within ±1σ: {int(truth.sum())} W′ events injected, "
             f"{n_core} of them within ±1σ on {b_core} QCD events (S/√B = "
             f"{n_core / np.sqrt(b_core):.2f} before any cut)", lines)  # fmt: skip
        for method in _method_names(lines):
            show_search(f"  {method}", search_result(lines, (method,)))
        show_search(f"the search at S/B = {s_over_b:.1%}, every method", search_result(lines))
    print(f"\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
