"""The physics processes ``jetad generate`` knows, as a table of frozen dataclasses.

Each process is a Pythia card in ``datasets/cards/`` (installed as ``jetad.cards``) with
``${name}`` parameters, their defaults, and the quantities derived from them. Adding a process
is adding a card and a row to :data:`PROCESSES`.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["PROCESSES", "Process", "get_process", "render_card"]

Parameters = Mapping[str, float | str]


def _no_derived(params: Parameters) -> dict[str, float | str]:
    return {}


@dataclass(frozen=True)
class Process:
    """One generated process.

    Attributes:
        name: the process name used on the command line and in filesets.
        card: the card file in ``jetad.cards``.
        label: the truth label written to ``Truth_label`` (1 signal, 0 background).
        code: the process code written to ``Truth_process``; unique per process.
        fatjet_radius: the anti-kT radius of ``FatJet`` (0.8 as in CMS, 1.0 for LHCO-like).
        fatjet_ptmin: the ``FatJet`` pT threshold in GeV.
        defaults: parameter defaults; every ``${name}`` in the card is one of these or derived.
        derived: computes the card's derived parameters from the full parameter set.
        description: one line for ``jetad generate --help`` and the fileset metadata.
    """

    name: str
    card: str
    label: int
    code: int
    fatjet_radius: float
    description: str
    defaults: Mapping[str, float | str] = field(default_factory=dict)
    derived: Callable[[Parameters], dict[str, float | str]] = _no_derived
    fatjet_ptmin: float = 170.0

    def parameters(self, overrides: Parameters | None = None) -> dict[str, float | str]:
        """Defaults updated by ``overrides``; unknown names raise ``ValueError``."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(
                f"process {self.name!r} has no parameter {', '.join(unknown)}; valid: {valid}"
            )
        params: dict[str, float | str] = dict(self.defaults)
        for key, value in overrides.items():
            default = self.defaults[key]
            try:
                params[key] = type(default)(value)
            except ValueError:
                raise ValueError(
                    f"parameter {key!r} of {self.name!r} must be a {type(default).__name__}, "
                    f"got {value!r}"
                ) from None
        return params


def _wprime_derived(p: Parameters) -> dict[str, float | str]:
    return {
        "m_wprime_min": 0.7 * float(p["m_wprime"]),
        "m_x_min": 0.5 * float(p["m_x"]),
        "m_y_min": 0.5 * float(p["m_y"]),
    }


def _svj_derived(p: Parameters) -> dict[str, float | str]:
    rinv = float(p["rinv"])
    if not 0.0 <= rinv <= 1.0:
        raise ValueError(f"parameter 'rinv' of 'svj' must lie in [0, 1], got {rinv}")
    m_dark = float(p["m_dark"])
    return {
        "visible": 1.0 - rinv,
        "visible_per_flavour": (1.0 - rinv) / 5.0,
        "m_dark_quark": m_dark / 2.0,
        "pt_min_fsr": 1.1 * m_dark,
        "m_mediator_min": 0.5 * float(p["m_mediator"]),
        "m_mediator_max": 1.5 * float(p["m_mediator"]),
    }


_TTBAR_DECAYS = {
    "semileptonic": "24:onMode = off\n24:onPosIfAny = 1 2 3 4 5\n24:onNegIfAny = 11 13",
    "inclusive": "",
}


def _ttbar_derived(p: Parameters) -> dict[str, float | str]:
    decay = str(p["decay"])
    if decay not in _TTBAR_DECAYS:
        raise ValueError(
            f"parameter 'decay' of 'ttbar' must be one of {', '.join(_TTBAR_DECAYS)}, got {decay!r}"
        )
    return {"w_decays": _TTBAR_DECAYS[decay]}

#: m_W + m_b (GeV, Pythia's defaults): below it t -> b W is closed and the top cannot decay.
_TOP_MASS_MIN = 80.385 + 4.8


def _mass(p: Parameters, name: str, process: str, low: float, high: float) -> float:
    """``p[name]`` as a float, or one line naming the parameter and its allowed range."""
    value = float(p[name])
    if not low < value < high:
        raise ValueError(
            f"parameter {name!r} of {process!r} must lie in ({low:g}, {high:g}) GeV, got {value:g}"
        )
    return value


def _resonance(p: Parameters, process: str) -> dict[str, float | str]:
    """The heavy scalar that makes the boosted jets: narrow (1%), generated within ±20%."""
    m = _mass(p, "m_resonance", process, 400.0, 6000.0)
    return {
        "width_resonance": 0.01 * m,
        "m_resonance_min": 0.8 * m,
        "m_resonance_max": 1.2 * m,
    }


def _narrow(name: str, m: float, window: float = 0.5) -> dict[str, float | str]:
    return {f"{name}_min": (1.0 - window) * m, f"{name}_max": (1.0 + window) * m}


def _boosted_2prong_derived(p: Parameters) -> dict[str, float | str]:
    half = 0.5 * float(p["m_resonance"])
    m_prong = _mass(p, "m_prong", "boosted_2prong", 10.0, half)
    return {**_resonance(p, "boosted_2prong"), **_narrow("m_prong", m_prong)}


def _boosted_top_derived(p: Parameters) -> dict[str, float | str]:
    half = 0.5 * float(p["m_resonance"])
    _mass(p, "m_top", "boosted_top", _TOP_MASS_MIN, half)
    return _resonance(p, "boosted_top")


def _boosted_4prong_derived(p: Parameters) -> dict[str, float | str]:
    half = 0.5 * float(p["m_resonance"])
    m_heavy = _mass(p, "m_heavy", "boosted_4prong", 20.0, half)
    m_light = _mass(p, "m_light", "boosted_4prong", 5.0, 0.5 * m_heavy)
    return {
        **_resonance(p, "boosted_4prong"),
        **_narrow("m_heavy", m_heavy, 0.2),
        **_narrow("m_light", m_light, 0.2),
    }


PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        Process(
            name="qcd_dijet",
            card="qcd_dijet.cmnd",
            label=0,
            code=0,
            fatjet_radius=1.0,
            description="QCD dijets, pT-hat above pthat_min (GeV), anti-kT R = 1.0 fat jets",
            defaults={"pthat_min": 1100.0},
        ),
        Process(
            name="wprime_xy",
            card="wprime_xy.cmnd",
            label=1,
            code=1,
            fatjet_radius=1.0,
            description="W'(m_wprime) -> X(m_x) Y(m_y), X,Y -> qq; anti-kT R = 1.0 fat jets",
            defaults={"m_wprime": 3500.0, "m_x": 500.0, "m_y": 100.0},
            derived=_wprime_derived,
        ),
        Process(
            name="svj",
            card="svj.cmnd",
            label=1,
            code=2,
            fatjet_radius=0.8,
            description="semivisible jets: Hidden Valley Z'(m_mediator) -> qv qv, r_inv = rinv",
            defaults={"m_mediator": 2000.0, "m_dark": 20.0, "rinv": 0.3},
            derived=_svj_derived,
        ),
        Process(
            name="ttbar",
            card="ttbar.cmnd",
            label=0,
            code=3,
            fatjet_radius=0.8,
            description="top pairs, decay = semileptonic (default) or inclusive",
            defaults={"pthat_min": 250.0, "decay": "semileptonic"},
            derived=_ttbar_derived,
        ),
        Process(
            name="wjets",
            card="wjets.cmnd",
            label=0,
            code=4,
            fatjet_radius=0.8,
            description="W(-> e nu, mu nu) + jet, pT-hat above pthat_min (GeV)",
            defaults={"pthat_min": 30.0},
        ),
        Process(
            name="zjets",
            card="zjets.cmnd",
            label=0,
            code=5,
            fatjet_radius=0.8,
            description="Z(-> ee, mumu) + jet, pT-hat above pthat_min (GeV)",
            defaults={"pthat_min": 30.0},
        ),
        Process(
            name="qcd_boosted",
            card="qcd_boosted.cmnd",
            label=0,
            code=6,
            fatjet_radius=0.8,
            fatjet_ptmin=300.0,
            description="QCD jets for boosted-jet tagging, pT-hat in [pthat_min, pthat_max] "
            "(GeV), AK8 fat jets",
            defaults={"pthat_min": 500.0, "pthat_max": 750.0},
        ),
        Process(
            name="boosted_2prong",
            card="boosted_2prong.cmnd",
            label=1,
            code=7,
            fatjet_radius=0.8,
            fatjet_ptmin=300.0,
            description="2-prong jets: scalar(m_resonance) -> X X, X(m_prong) -> qq; AK8",
            defaults={"m_resonance": 1250.0, "m_prong": 80.0},
            derived=_boosted_2prong_derived,
        ),
        Process(
            name="boosted_top",
            card="boosted_top.cmnd",
            label=1,
            code=8,
            fatjet_radius=0.8,
            fatjet_ptmin=300.0,
            description="3-prong jets: scalar(m_resonance) -> t tbar, t(m_top) -> bqq'; AK8",
            defaults={"m_resonance": 1450.0, "m_top": 174.0},  # top jets lose ~20% of pT
            derived=_boosted_top_derived,
        ),
        Process(
            name="boosted_4prong",
            card="boosted_4prong.cmnd",
            label=1,
            code=9,
            fatjet_radius=0.8,
            fatjet_ptmin=300.0,
            description="4-prong jets: scalar(m_resonance) -> H H, H(m_heavy) -> h h, "
            "h(m_light) -> qq; AK8",
            defaults={"m_resonance": 1250.0, "m_heavy": 174.0, "m_light": 20.0},
            derived=_boosted_4prong_derived,
        ),
    )
}


def get_process(name: str) -> Process:
    """The process called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return PROCESSES[name]
    except KeyError:
        raise ValueError(
            f"unknown process {name!r}; valid processes: {', '.join(PROCESSES)}"
        ) from None


def _read_card(card: str) -> str:
    return resources.files("jetad.cards").joinpath(card).read_text()


def render_card(process: Process, params: Parameters) -> list[str]:
    """The Pythia settings of ``process`` with ``params`` filled in, common settings first."""
    values = {**params, **process.derived(params)}
    text = _read_card("common.cmnd") + "\n" + _read_card(process.card)
    try:
        text = string.Template(text).substitute(values)
    except KeyError as err:
        raise ValueError(f"card {process.card} uses ${{{err.args[0]}}}, which is not set") from None
    lines = (line.split("!", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]
