"""The sections of the ``jetad demo`` report, read back from the files the demo wrote."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jetad.report import Section, Table

__all__ = ["demo_sections"]


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _number(value: float | None, spec: str) -> str:
    """``value`` formatted, or "n/a" for a number bumphunt.json could not hold (None)."""
    return "n/a" if value is None else format(value, spec)


def _images(output: Path, *names: str) -> tuple[str, ...]:
    return tuple(name for name in names if (output / name).exists())


def _cutflow_table(cutflow: dict) -> Table:
    columns: list[str] = []
    for counts in cutflow.values():
        columns += [c for c in counts if c not in columns]
    rows = tuple(
        (dataset, *(str(counts.get(c, "")) for c in columns)) for dataset, counts in cutflow.items()
    )
    return Table(("dataset", *columns), rows)


def _models_section(output: Path) -> Section:
    from jetad.demo import DEMO_MODELS

    rows, images = [], []
    for name, (options, train_on, background, signal) in DEMO_MODELS.items():
        metrics = _json(output / "models" / f"{name}_evaluation" / "metrics.json")
        for score, fom in metrics.items():
            rows.append((name, options["features"], score, ", ".join(train_on),
                         f"{', '.join(signal)} vs {', '.join(background)}", f"{fom['auc']:.3f}",
                         f"{fom['sic_max']:.2f}",
                         f"{fom['inverse_eff_b_at_eff_s_0p5']:.1f}"))  # fmt: skip
        images += [f"models/{name}.training.png", f"models/{name}_evaluation/roc.png"]
    header = ("model", "features", "score", "trained on", "signal vs background", "AUC",
              "SIC max", "1/ε_B at ε_S = 0.5")  # fmt: skip
    return Section(
        "Models",
        ("Trained on background only and evaluated on independent samples. The exported "
         "TorchScript models and their metadata (features, preprocessing, working points) are "
         "in models/.",),
        (Table(header, tuple(rows)),),
        _images(output, *images),
    )  # fmt: skip


def _sculpting(output: Path) -> str:
    """The decorrelation check in words: how each cut reshapes the QCD m_jj spectrum."""
    measures = _json(output / "sculpting.json")["mjj"]["vae"].get("qcd_dijet", {})
    parts = [f"{cut} keeps {m['efficiency']:.1%} with JS = {_number(m['js_divergence'], '.3f')}"
             for cut, m in measures.items()]  # fmt: skip
    return ("Sculpting (mjj_sculpting_vae.png, sculpting.json): the Jensen–Shannon divergence "
            "between the QCD m_jj shapes after and before each cut (0: the same shape; "
            f"statistical noise alone is not 0 at this size): {'; '.join(parts)}.")  # fmt: skip


def _injected_signal(output: Path) -> str:
    """Where the injected W′ sits and how much of it each cut keeps, for reading the scan."""
    from coffea.util import load

    from jetad.histograms import nominal

    mjj = nominal(load(output / "histograms.coffea")["mjj"])
    if "wprime_xy" not in mjj.axes["dataset"] or "pseudodata" not in mjj.axes["dataset"]:
        return ""
    signal = mjj[{"dataset": "wprime_xy", "cut": "none"}][{"model": 0}]
    peak = int(signal.values().argmax())
    low, high = signal.axes[0].edges[peak], signal.axes[0].edges[peak + 1]
    kept = _json(output / "cutflow.json")["cutflow"]["pseudodata"]
    counts = ", ".join(f"{v} after {k.rsplit(' ', 1)[-1]}" for k, v in kept.items()
                       if k.startswith("signal (truth), "))  # fmt: skip
    return (f"The injected W′ peaks at m_jj = {low:.0f}–{high:.0f} GeV (the wprime_xy "
            f"histogram); the selected pseudo-data hold {kept['signal (truth)']} of its events, "
            f"{counts}. A best window elsewhere, or a search global significance below 2, means "
            f"the search did not find it. "
            f"{_perfect_tagger(mjj, kept['signal (truth)'])}")  # fmt: skip


def _perfect_tagger(mjj, n_signal: int) -> str:
    """What this sample size allows: the Asimov significance of the selected signal in its
    ±1σ m_jj window over the pseudo-data's background there, for a perfect tagger that keeps
    every signal event and a fraction ε of the background."""
    from jetad.bumphunt import RESOLUTION

    signal = mjj[{"dataset": "wprime_xy", "cut": "none"}][{"model": 0}]
    edges, shape = signal.axes[0].edges, signal.values()
    centres = 0.5 * (edges[1:] + edges[:-1])
    peak = centres[int(shape.argmax())]
    window = np.abs(centres - peak) < RESOLUTION * peak
    s = n_signal * shape[window].sum() / shape.sum()
    data = mjj[{"dataset": "pseudodata", "cut": "none"}][{"model": 0}].values()
    b = max(data[window].sum() - s, 1.0)
    z = {eps: np.sqrt(2 * ((s + eps * b) * np.log1p(s / (eps * b)) - s)) for eps in (1, 0.1, 0.01)}
    return (f"At this size a perfect tagger would give: in the ±1σ window ({s:.0f} signal over "
            f"{b:.0f} background events) a local significance of {z[1]:.1f} without a cut, "
            f"{z[0.1]:.1f} keeping 10% of the background and {z[0.01]:.1f} keeping 1% (Asimov, "
            f"background known).")  # fmt: skip


def _pass_fraction_cells(result: dict | None) -> tuple[str, str]:
    if not result:
        return "", ""
    if "skipped" in result:
        return f"skipped: {result['skipped']}", ""
    low, high = result["window"]
    return (f"{low:.0f}–{high:.0f}", f"{_number(result['local_significance'], '.2f')} / "
            f"{_number(result['global_significance'], '.2f')}")  # fmt: skip


def _search_significance(hunts: dict) -> str:
    """The search's own global significance: the most significant of all its hunts (each cut,
    fit and pass fraction) corrected for their number (``search_significance``)."""
    from jetad.bumphunt import search_significance

    tests = {
        f"{model} {cut}, {how}": result.get("global_significance", np.nan)
        for model, cuts in hunts.items()
        for cut, r in cuts.items()
        for how, result in (("fit", r), ("pass fraction", r.get("pass_fraction") or {}))
    }
    found = search_significance({k: np.nan if z is None else z for k, z in tests.items()})
    if found.test is None:
        return ""
    return (f"The search reports its most significant hunt of {found.trials} ({found.test}, "
            f"global Z {found.best:.2f}), so its own global significance is "
            f"{found.global_significance:.2f} (Šidák: p → 1 − (1 − p)^N, conservative for "
            "hunts of one spectrum after nested cuts).")


def _bumphunt_section(output: Path) -> Section:
    results = _json(output / "bumphunt.json")
    rows, images = [], []
    for model, cuts in results["hunts"].items():
        for cut, r in cuts.items():
            if "skipped" in r:
                rows.append((model, cut, f"skipped: {r['skipped']}", *[""] * 7,
                             *_pass_fraction_cells(r.get("pass_fraction"))))  # fmt: skip
                if "window" in r.get("pass_fraction", {}):
                    images.append(f"pass_fraction_{model}_{cut}.png")
                continue
            rows.append((model, cut, f"{r['window'][0]:.0f}–{r['window'][1]:.0f}",
                         str(r["width_bins"]), _number(r["observed"], ".0f"),
                         _number(r["expected"], ".1f"), _number(r["local_significance"], ".2f"),
                         _number(r["global_significance"], ".2f"),
                         _number(r["gof_p_value"], ".2f"),
                         str(r["fit"]["n_parameters"]),
                         *_pass_fraction_cells(r.get("pass_fraction"))))  # fmt: skip
            images.append(f"bumphunt_{model}_{cut}.png")
            if "window" in r.get("pass_fraction", {}):
                images.append(f"pass_fraction_{model}_{cut}.png")
    header = ("model", "cut", "window [GeV]", "width [bins]", "observed", "expected", "local Z",
              "global Z", "fit p-value", "fit parameters", "pass-fraction window [GeV]",
              "pass-fraction local / global Z")  # fmt: skip
    with_fraction = any("pass_fraction" in r for cuts in results["hunts"].values()
                        for r in cuts.values())  # fmt: skip
    if not with_fraction:
        header, rows = header[:-2], [row[:-2] for row in rows]
    paragraphs = [
        "The dijet function fitted to m_jj of the pseudo-data from one bin above the peak of "
        "dN/dm_jj, before and after the VAE cuts. Windows of 2 to 6 bins (±1 to ±3 σ of the "
        "resolution) are scanned; a window's local Z tests a signal over it with the dijet "
        "function refitted (profile likelihood), and the global significance and the fit's "
        "p-value count background-only toys that repeat the whole procedure, every width "
        "included (bumphunt.json).",
        "The pass-fraction columns (jetad bumphunt --pass-fraction, experimental) hunt, after "
        "each cut that follows m_jj, in the fraction of each m_jj bin's events that the cut "
        "keeps, against a fraction smooth in ln m_jj (binomial given the bin's count; "
        "jetad.bumphunt.pass_fraction_hunt)." if with_fraction else "",
        _search_significance(results["hunts"]),
        _injected_signal(output),
    ]
    spurious = results.get("spurious_signal")
    if spurious:
        paragraphs.append(
            f"Spurious signal: a Gaussian signal of the m_jj resolution fitted with the "
            f"{spurious['n_parameters']}-parameter background to the QCD simulation alone "
            f"({spurious['dataset']}, no cut) at {len(spurious['masses'])} masses gives at most "
            f"|S|/σ_S = {_number(spurious['max_abs_ratio'], '.2f')}; an unbiased function gives "
            "values spread as a unit Gaussian."
        )
        images.append(f"spurious_signal_{spurious['dataset']}.png")
    return Section(
        "Bump hunt on the pseudo-data",
        tuple(p for p in paragraphs if p),
        (Table(header, tuple(rows)),),
        _images(output, *images),
    )


def _characterisation_section(output: Path) -> Section:
    result = _json(output / "characterisation" / "characterisation.json")
    if "skipped" in result:
        return Section("Latent characterisation of the pseudo-data",
                       (f"Skipped: {result['skipped']}.",))  # fmt: skip
    found = result["localisation"]
    return Section(
        "Latent characterisation of the pseudo-data",
        (
            "A decoder of (z, m_jj) trained behind the frozen encoder of VAE member 0 on the "
            "pseudo-data (Bortolato et al. §V; jetad.characterisation): each observable "
            "decoded over (m_jj, z̄), with the 68% and 95% regions of the events. A resonance "
            "shows as a patch at its m_jj.",
            (f"Localisation statistic T = {found['statistic']:.2f} at m_jj = "
             f"{found['mjj']:.0f} GeV ({found['feature']})." if found["feature"] else
             f"No localisation statistic: {found['reason']}.") + " T has no closed-form null "
            "distribution; bench/characterise.py measures it on background-only trainings "
            "(README), so read it against those, not as a number of σ.",
        ),
        (),
        _images(output, "characterisation/latent_heatmaps.png",
                "characterisation/latent_profiles.png"),  # fmt: skip
    )


def demo_sections(output: Path, samples: Sequence, s_over_b: float) -> list[Section]:
    """Every section of the demo report."""
    sample_rows = tuple(
        (Path(s.output).stem, s.process, str(s.n_events), f"{s.xsec_pb:.4g}") for s in samples
    )
    dijet = _json(output / "cutflow.json")["cutflow"]
    svj = _json(output / "svj" / "cutflow.json")["cutflow"]
    lepton = _json(output / "lepton" / "cutflow.json")["cutflow"]
    injected = _json(output / "samples" / "fileset.json")["pseudodata"]["metadata"]
    return [
        Section(
            "What ran",
            (
                f"Every step is a jetad command; commands.txt lists them in order. The pseudo-data "
                f"are {injected['n_background']} qcd_dijet events with {injected['n_signal']} "
                f"wprime_xy events injected (S/B = {s_over_b}), unweighted, with the truth label "
                f"kept.",
            ),
            (Table(("sample", "process", "events", "σ [pb]"), sample_rows),),
        ),  # fmt: skip
        _models_section(output),
        Section(
            "Dijet analysis (DijetAnomalyProcessor)",
            (
                "Two R = 1.0 jets, leading pT > 1.2 TeV, |Δη| < 1.3; the lhco features scored "
                "by the VAE ensemble. 'signal (truth)' counts the injected W′ events kept by "
                "each cut. MC datasets are weighted to 1 pb⁻¹; the pseudo-data are events.",
                _sculpting(output),
            ),
            (_cutflow_table(dijet),),
            _images(output, "mjj_vae.png", "score_vae.png", "mjj_sculpting_vae.png"),
        ),  # fmt: skip
        _bumphunt_section(output),
        _characterisation_section(output),
        Section(
            "Semivisible jets (SemivisibleJetProcessor)",
            (
                "Two AK8 jets with pT > 200 GeV and |Δη| < 1.5, the svj8 features of both "
                "scored by the WNAE; m_jj and M_T(jj, MET) with and without the cuts.",
            ),
            (_cutflow_table(svj),),
            _images(output, "svj/mjj_wnae.png", "svj/mt_wnae.png", "svj/score_wnae.png"),
        ),  # fmt: skip
        Section(
            "ℓ+X trigger (LeptonTriggerProcessor)",
            (
                "One isolated e or μ above 23 GeV; the 21 features of Cerri et al. scored by the "
                "per-feature-likelihood VAE.",
            ),
            (_cutflow_table(lepton),),
            _images(
                output,
                "lepton/score_hltvae.png",
                "lepton/features_mt_hltvae.png",
                "lepton/features_st_hltvae.png",
            ),
        ),  # fmt: skip
    ]
