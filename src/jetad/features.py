"""Named feature sets: the inputs the anomaly models train on.

A :class:`FeatureSet` is a frozen list of named, unit-carrying features and the function that
computes them from NanoEvents. It is serialised by name next to every trained model, so a model
can refuse inputs that do not match.

=================  =======  ====================================================================
set                level    features
=================  =======  ====================================================================
``lhco``           event    mj1, tau21_j1, tau32_j1, mj2, tau21_j2, tau32_j2 (Bortolato et al.:
                            the two leading jets ordered by mass; m_jj is *not* an input)
``svj8``           jet      axis_major, axis_minor, efp1, c2_b05, ptd, msoftdrop, tau2, tau3
                            (the WNAE inputs of the semivisible-jet search); beside them
                            (``also``) ``jet_pt`` of the constituent sum
``hlt21``          event    the 21 ℓ+X features of Cerri et al.
``hlt18_nano``     event    the 18 that standard NanoAOD without PF candidates gives exactly:
                            ``lep_iso_neu_pho`` (all − charged) for ``lep_iso_neu`` and
                            ``lep_iso_pho``; no ``n_charged``, ``n_neutral``
``constituents20``  jet      (E, px, py, pz) of the 20 leading constituents in the jet frame
                            (Cheng et al.), 80 columns; beside them (``also``) ``jet_pt`` and
                            ``jet_mass`` of the constituent sum, for pT windows and OE weights
=================  =======  ====================================================================

Jet-level sets are computed for every ``FatJet``; event-level sets give None for events that
fail their preselection. :func:`custom_feature_set` builds a set from any subset of the
columns these functions compute, or from a user function.

Example:
    >>> from jetad.features import FEATURE_SETS
    >>> svj8 = FEATURE_SETS["svj8"]
    >>> svj8.names[:3]
    ('axis_major', 'axis_minor', 'efp1')
    >>> table = svj8(events)                 # events × FatJet records   # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import awkward as ak
import numpy as np

from jetad._dask import is_dask
from jetad.constituents import fatjet_constituents, has_constituents
from jetad.kinematics import invariant_mass
from jetad.observables import (
    dijet_features,
    efp,
    energy_correlations,
    jet_shapes,
    lepton_trigger_features,
    nsubjettiness,
    soft_drop,
)
from jetad.observables._batch import flatten_jets
from jetad.observables.constituent_images import COMPONENTS, jet_frame_images
from jetad.observables.dijet import DijetSelection
from jetad.observables.lepton_trigger import DEFAULT_ERA, NANO_ISOLATION
from jetad.observables.lepton_trigger import FEATURES as HLT21_NAMES

__all__ = [
    "FEATURE_SETS",
    "Feature",
    "FeatureSet",
    "custom_feature_set",
    "feature_matrix",
    "get_feature_set",
]

Level = Literal["event", "jet"]
Compute = Callable[..., ak.Array]


@dataclass(frozen=True)
class Feature:
    """One model input: its column name, unit ('' for dimensionless) and meaning."""

    name: str
    unit: str
    description: str


@dataclass(frozen=True)
class FeatureSet:
    """A frozen, ordered list of features and how to compute them.

    Attributes:
        name: the registry name, stored with trained models.
        level: ``"event"`` (one row per event) or ``"jet"`` (one row per FatJet).
        features: the features, in model-input order.
        compute: ``compute(events, constituents=None, jets=None) -> ak.Array`` of records
            whose fields include every feature name (``jets`` instead of ``events.FatJet``;
            a custom function may leave it out if it is never given jets).
        selection: for event-level sets, the analysis' event selection (e.g.
            :class:`~jetad.observables.dijet.DijetSelection` of the FatJets): training and
            evaluation rows are the events it keeps, the processor cuts with the same, and the
            model's metadata records it.
    """

    name: str
    level: Level
    features: tuple[Feature, ...]
    compute: Compute
    selection: DijetSelection | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @functools.cached_property  # read once per set, not once per chunk
    def options(self) -> tuple[str, ...] | None:
        """The keyword options its computation takes besides the events, constituents and jets
        (e.g. ``btag`` of ``hlt21``); None when it takes any (``**kwargs``) or cannot say."""
        try:
            parameters = list(inspect.signature(self.compute).parameters.values())
        except (TypeError, ValueError):
            return None
        if any(p.kind == p.VAR_KEYWORD for p in parameters):
            return None
        named = [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        # the first two positional ones are the events and the constituents
        return tuple(p.name for p in named[2:] if p.name != "jets")

    def __call__(
        self,
        events: ak.Array,
        constituents: ak.Array | None = None,
        also: tuple[str, ...] = (),
        jets: ak.Array | None = None,
        **options,
    ) -> ak.Array:
        """The features of ``events`` as records with exactly :attr:`names`, in order, then
        the ``also`` fields the computation gives beside them (e.g. ``mjj`` of ``lhco``).

        Training (``feature_rows``), the processors and the ntuples all call this, on whatever
        jets their selection made, so a model sees the same inputs everywhere.

        Args:
            events: NanoEvents (eager, virtual or dask).
            constituents: jet constituents to use instead of ``fatjet_constituents(events)``,
                e.g. from :func:`jetad.constituents.recluster`.
            also: fields that are not model inputs, such as the mass a cut is decorrelated on.
            jets: the jets (``events × jets``, ordered by pT) to use instead of
                ``events.FatJet``, e.g. reclustered ones; aligned with ``constituents``.
            options: options of the computation, e.g. ``btag`` (era or ``(branch,
                threshold)``) of ``hlt21`` and ``hlt18_nano``.
        """
        known = self.options
        unknown = [] if known is None else sorted(set(options) - set(known))
        if unknown:
            raise ValueError(
                f"feature set {self.name!r} has no option {', '.join(map(repr, unknown))}; "
                f"its options: {', '.join(known) or 'none'}"
            )
        if jets is not None:  # only then, so a custom compute(events, constituents=None) works
            options["jets"] = jets
        table = self.compute(events, constituents, **options)
        missing = [n for n in (*self.names, *also) if n not in ak.fields(table)]
        if missing:
            raise ValueError(f"feature set {self.name!r} did not compute {', '.join(missing)}")
        return table[[*self.names, *also]]


def _constituents(events: ak.Array, constituents: ak.Array | None) -> ak.Array:
    return fatjet_constituents(events) if constituents is None else constituents


def _lhco(
    events: ak.Array, constituents: ak.Array | None = None, jets: ak.Array | None = None
) -> ak.Array:
    if constituents is None and has_constituents(events):
        constituents = fatjet_constituents(events)
    # without constituents (NanoAOD without PF candidates) the jets' stored τ_N
    return dijet_features(events.FatJet if jets is None else jets, constituents)


def _svj8(
    events: ak.Array, constituents: ak.Array | None = None, jets: ak.Array | None = None
) -> ak.Array:
    jets = _constituents(events, constituents)
    flat = flatten_jets(jets)  # one flattening for the shapes, τ_N, EFP, ECF and soft drop
    shape = jet_shapes(flat)  # pTD and the axes in one pass
    taus = nsubjettiness(flat, nmax=3)
    return ak.zip(
        {
            "axis_major": shape.major,
            "axis_minor": shape.minor,
            "efp1": efp(flat, "d==1")[..., 0],
            "c2_b05": energy_correlations(flat, beta=0.5, with_n2=False).c2,
            "ptd": shape.ptd,
            "msoftdrop": soft_drop(flat).msoftdrop,
            "tau2": taus[..., 1],
            "tau3": taus[..., 2],
            "jet_pt": shape.pt,  # not a model input: pT windows and reweighting (GeV)
        }
    )


def _hlt21(
    events: ak.Array,
    constituents: ak.Array | None = None,
    jets: ak.Array | None = None,
    btag: str | tuple[str, float] = DEFAULT_ERA,
) -> ak.Array:
    return lepton_trigger_features(events, btag=btag)


def _constituents20(
    events: ak.Array, constituents: ak.Array | None = None, jets: ak.Array | None = None
) -> ak.Array:
    jets = _constituents(events, constituents)
    if is_dask(jets):
        import dask_awkward as dak

        return dak.map_partitions(_jet_images, jets)
    return _jet_images(jets)


def _jet_images(jets: ak.Array) -> ak.Array:
    # one four-momentum pass: the images and the jet (the sum of its constituents)
    images, (px, py, pz, energy) = jet_frame_images(jets, n=20)
    return ak.zip(
        {
            **{
                f"c{k:02d}_{component}": images[..., k, i]
                for k in range(20)
                for i, component in enumerate(COMPONENTS)
            },
            "jet_pt": np.hypot(px, py),  # not model inputs: windows, mass reweighting (GeV)
            "jet_mass": invariant_mass(px, py, pz, energy),
        }
    )


_HLT21_UNITS = {
    "lep_pt": "GeV", "st": "GeV", "m_jets": "GeV", "met_parallel": "GeV",
    "met_perpendicular": "GeV", "mt": "GeV", "m_mu": "GeV", "pt_mu_tot": "GeV",
    "m_ele": "GeV", "pt_ele_tot": "GeV",
}  # fmt: skip

FEATURE_SETS: dict[str, FeatureSet] = {
    s.name: s
    for s in (
        FeatureSet(
            "lhco",
            "event",
            (
                Feature("mj1", "GeV", "mass of the heavier of the two leading jets"),
                Feature("tau21_j1", "", "τ2/τ1 of the heavier jet"),
                Feature("tau32_j1", "", "τ3/τ2 of the heavier jet"),
                Feature("mj2", "GeV", "mass of the lighter of the two leading jets"),
                Feature("tau21_j2", "", "τ2/τ1 of the lighter jet"),
                Feature("tau32_j2", "", "τ3/τ2 of the lighter jet"),
            ),
            _lhco,
            DijetSelection(),
        ),
        FeatureSet(
            "svj8",
            "jet",
            (
                Feature("axis_major", "", "major axis of the pT²-weighted (η, φ) spread"),
                Feature("axis_minor", "", "minor axis of the pT²-weighted (η, φ) spread"),
                Feature("efp1", "", "EFP of the one-edge graph, β = 1"),
                Feature("c2_b05", "", "energy-correlation ratio C2 at β = 0.5"),
                Feature("ptd", "", "pTD = √Σ pT² / Σ pT"),
                Feature("msoftdrop", "GeV", "soft-drop mass, z_cut = 0.1, β = 0"),
                Feature("tau2", "", "N-subjettiness τ2 (β = 1, R0 = 0.8, OnePass-kT)"),
                Feature("tau3", "", "N-subjettiness τ3 (β = 1, R0 = 0.8, OnePass-kT)"),
            ),
            _svj8,
        ),
        FeatureSet(
            "hlt21",
            "event",
            tuple(Feature(n, _HLT21_UNITS.get(n, ""), n.replace("_", " ")) for n in HLT21_NAMES),
            _hlt21,
        ),
        FeatureSet(
            "constituents20",
            "jet",
            tuple(
                Feature(f"c{k:02d}_{c}", "GeV", f"{c} of constituent {k} in the jet frame")
                for k in range(20)
                for c in COMPONENTS
            ),
            _constituents20,
        ),
    )
}


#: The ℓ+X features standard NanoAOD does not give (see :mod:`jetad.observables.lepton_trigger`).
_NEEDS_PF_CANDIDATES = ("lep_iso_neu", "lep_iso_pho", "n_charged", "n_neutral")
_HLT18_NAMES = tuple(
    NANO_ISOLATION if name == "lep_iso_neu" else name
    for name in HLT21_NAMES
    if name == "lep_iso_neu" or name not in _NEEDS_PF_CANDIDATES
)
FEATURE_SETS["hlt18_nano"] = FeatureSet(
    "hlt18_nano",
    "event",
    tuple(Feature(n, _HLT21_UNITS.get(n, ""), n.replace("_", " ")) for n in _HLT18_NAMES),
    _hlt21,
)


def get_feature_set(name: str) -> FeatureSet:
    """The registered feature set called ``name``; unknown names list the valid ones."""
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise ValueError(
            f"unknown feature set {name!r}; valid: {', '.join(FEATURE_SETS)}"
        ) from None


def custom_feature_set(
    name: str,
    features: Mapping[str, str] | tuple[str, ...],
    base: str | FeatureSet | None = None,
    compute: Compute | None = None,
    level: Level | None = None,
) -> FeatureSet:
    """A feature set of chosen columns, from a registered set or from a function.

    Args:
        name: the new set's name.
        features: feature names, or a mapping of name to unit.
        base: take the columns from this set's computation (e.g. ``"svj8"``).
        compute: or a function ``compute(events, constituents=None) -> ak.Array`` of records.
        level: ``"event"`` or ``"jet"``; the base set's level by default.

    Example:
        >>> shapes = custom_feature_set("shapes", ("ptd", "axis_major"), base="svj8")
    """
    if (base is None) == (compute is None):
        raise ValueError("give exactly one of base= and compute=")
    units = dict(features) if isinstance(features, Mapping) else dict.fromkeys(features, "")
    if base is not None:
        source = get_feature_set(base) if isinstance(base, str) else base
        known = {f.name: f for f in source.features}
        unknown = [n for n in units if n not in known]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} not in feature set {source.name!r}; "
                f"available: {', '.join(known)}"
            )
        return FeatureSet(
            name, level or source.level, tuple(known[n] for n in units), source.compute
        )
    if level is None:
        raise ValueError("a custom compute= needs level='event' or level='jet'")
    return FeatureSet(name, level, tuple(Feature(n, u, n) for n, u in units.items()), compute)


def feature_matrix(table: ak.Array, names: tuple[str, ...]) -> np.ndarray:
    """Stack the named columns of a flat (rows × fields) record array into ``(rows, features)``."""
    return np.column_stack([ak.to_numpy(ak.values_astype(table[n], np.float64)) for n in names])
