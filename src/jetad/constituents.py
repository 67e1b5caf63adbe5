"""Jet constituents as ``events × jets × constituents`` arrays, whatever the file layout.

Two sources give the same shape, so nothing downstream knows which one was used:

- :func:`fatjet_constituents` follows the PF-candidate links stored in the file;
- :func:`recluster` clusters the PF candidates with fastjet.

The constituents are records with ``pt, eta, phi, mass`` (GeV) and vector's ``Momentum4D``
behaviour, plus ``charge`` and ``pdgId`` where the file has them.

A jet whose candidates are not stored (``FatJet_nConstituents > 0`` but no link rows, as in
some real files) gets an empty constituent list: its observables are NaN, and
``ak.num(constituents, axis=2) == 0`` counts it in a cutflow. Standard NanoAOD, which stores
no PF candidates at all, raises an error naming the collections looked for, or with
``missing="empty"`` gives every jet an empty list (:func:`has_constituents` tells which).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import awkward as ak
import numpy as np
import vector

from jetad._dask import is_dask

__all__ = [
    "LAYOUTS",
    "Layout",
    "candidate_layout",
    "fatjet_constituents",
    "find_layout",
    "has_constituents",
    "nest_by_jet",
    "recluster",
]

vector.register_awkward()

Puppi = Literal["auto"] | bool


@dataclass(frozen=True)
class Layout:
    """Where a file keeps its PF candidates and their links to ``FatJet``.

    Attributes:
        name: a short name for messages.
        candidates: the candidate collection.
        links: the jet-to-candidate link collection.
        jet_index: the link field holding the jet index.
        candidate_index: the link field holding the candidate index.
        puppi_weighted: whether the stored candidate pt is already PUPPI-weighted.
    """

    name: str
    candidates: str
    links: str
    jet_index: str
    candidate_index: str
    puppi_weighted: bool


#: The layouts jetad reads, tried in order.
LAYOUTS = (
    Layout("PFNano", "PFCands", "FatJetPFCands", "jetIdx", "pFCandsIdx", puppi_weighted=False),
    Layout("NanoAOD v15", "PFCand", "FatJetPFCand", "jetIdx", "pfCandIdx", puppi_weighted=True),
)

#: The kinematic fields every candidate collection needs.
KINEMATICS = ("pt", "eta", "phi", "mass")
_OPTIONAL = ("charge", "pdgId")


def find_layout(events: ak.Array) -> Layout:
    """The first layout in :data:`LAYOUTS` whose collections are all present.

    Raises:
        ValueError: naming the collections looked for when none matches.
    """
    fields = set(events.fields)
    for layout in LAYOUTS:
        if {layout.candidates, layout.links, "FatJet"} <= fields:
            return layout
    looked_for = "; ".join(f"{x.name}: FatJet, {x.candidates}, {x.links}" for x in LAYOUTS)
    raise ValueError(f"no jet constituents in these events; looked for {looked_for}")


def candidate_layout(events: ak.Array) -> Layout:
    """The first layout in :data:`LAYOUTS` whose PF-candidate collection is present (links
    are not needed, e.g. for reclustering).

    Raises:
        ValueError: naming the collections looked for when none is present.
    """
    for layout in LAYOUTS:
        if layout.candidates in events.fields:
            return layout
    raise ValueError(
        "no PF candidates to recluster; looked for "
        + ", ".join(layout.candidates for layout in LAYOUTS)
    )


def has_constituents(events: ak.Array) -> bool:
    """Whether ``events`` store FatJet constituents in one of the :data:`LAYOUTS`."""
    fields = set(events.fields)
    return any({x.candidates, x.links, "FatJet"} <= fields for x in LAYOUTS)


def _no_constituents(jets: ak.Array) -> ak.Array:
    """``events × jets × 0`` Momentum4D records aligned with ``jets``."""
    record = ak.zip({f: jets[f] for f in KINEMATICS}, with_name="Momentum4D")
    return ak.from_regular(record[:, :, np.newaxis][:, :, :0], axis=2)


def _candidates(events: ak.Array, layout: Layout, puppi: Puppi) -> ak.Array:
    """The PF candidates as Momentum4D records, PUPPI-weighted as requested."""
    source = events[layout.candidates]
    missing = [f for f in KINEMATICS if f not in source.fields]
    if missing:
        raise ValueError(
            f"{layout.candidates} lacks {', '.join(f'{layout.candidates}_{m}' for m in missing)}"
        )
    record = {f: source[f] for f in KINEMATICS}
    has_weight = "puppiWeight" in source.fields
    if puppi is True and not (has_weight or layout.puppi_weighted):
        raise ValueError(f"puppi=True but {layout.candidates}_puppiWeight is not in the file")
    if has_weight and not layout.puppi_weighted and puppi in ("auto", True):
        weight = source.puppiWeight
        record["pt"] = source.pt * weight
        record["mass"] = source.mass * weight
    record.update({f: source[f] for f in _OPTIONAL if f in source.fields})
    return ak.zip(record, with_name="Momentum4D")


def _group_by_jet(rows: ak.Array, jet_index: ak.Array, jets: ak.Array) -> ak.Array:
    """Nest per-event link rows into ``events × jets × rows``, aligned with ``jets``."""
    order = ak.argsort(jet_index, axis=1, stable=True)
    rows, jet_index = rows[order], jet_index[order]
    local = ak.local_index(jets.pt, axis=1)
    pairs = ak.cartesian({"jet": local, "row": jet_index}, axis=1, nested=True)
    return nest_by_jet(rows, ak.sum(pairs.jet == pairs.row, axis=2))


def nest_by_jet(rows: ak.Array, counts: ak.Array) -> ak.Array:
    """Nest ``events × rows`` (each event's rows ordered by jet) into ``events × jets × rows``,
    ``counts`` (``events × jets``) rows per jet; the result has ``ak.num(counts)`` jets in
    every event by construction.

    Unflattened in two steps, per jet and then per event: one step with flattened counts,
    ``ak.unflatten(rows, ak.flatten(counts), axis=1)``, cannot tell which event a zero count
    at an event boundary belongs to (``ak.unflatten([[1, 2], []], [1, 1, 0], axis=1)`` gives
    ``[[[1], [2], []], []]``), and misaligns jets without rows silently.
    """
    per_jet = ak.unflatten(ak.flatten(rows, axis=1), ak.flatten(counts))
    return ak.unflatten(per_jet, ak.num(counts, axis=1))


def fatjet_constituents(
    events: ak.Array, puppi: Puppi = "auto", missing: Literal["raise", "empty"] = "raise"
) -> ak.Array:
    """The PF candidates of each ``FatJet``, ``events × FatJet × constituents``.

    Works on NanoEvents opened with any coffea NanoAOD schema, for PFNano (with or without
    ``FatJet_nConstituents``) and NanoAOD v15 (``PFCand``, ``FatJetPFCand_pfCandIdx``).

    Args:
        events: NanoEvents (eager or virtual) or any record array with the collections.
        puppi: ``"auto"`` scales the four-momenta by ``puppiWeight`` when the file stores
            unweighted candidates with a weight (PFNano AK8 PUPPI jets); ``True`` requires
            weighting; ``False`` keeps the stored values (NanoAOD v15 pt is already weighted).
        missing: for files without PF candidates, ``"raise"`` a ValueError naming the
            collections looked for, or give every jet an ``"empty"`` list.

    Returns:
        Momentum4D records aligned with ``events.FatJet``: one list per jet, empty for jets
        whose candidates are not stored. Link rows pointing past the last jet are dropped
        with a warning.
    """
    if puppi not in ("auto", True, False):
        raise ValueError(f"puppi must be 'auto', True or False, got {puppi!r}")
    if missing not in ("raise", "empty"):
        raise ValueError(f"missing must be 'raise' or 'empty', got {missing!r}")
    if is_dask(events):
        import dask_awkward as dak

        return dak.map_partitions(fatjet_constituents, events, puppi=puppi, missing=missing)
    if missing == "empty" and "FatJet" in events.fields and not has_constituents(events):
        return _no_constituents(events.FatJet)
    layout = find_layout(events)
    links = events[layout.links]
    for field in (layout.jet_index, layout.candidate_index):
        if field not in links.fields:
            raise ValueError(f"{layout.links} lacks the link branch {layout.links}_{field}")
    candidates = _candidates(events, layout, puppi)
    n_jets = ak.num(events.FatJet, axis=1)
    jet_index = links[layout.jet_index]
    in_range = (jet_index >= 0) & (jet_index < n_jets)
    if ak.backend(in_range) != "typetracer":
        dropped = int(ak.sum(~in_range))
        if dropped:
            warnings.warn(
                f"{dropped} {layout.links} rows point to no {layout.name} FatJet; dropped",
                stacklevel=2,
            )
    rows = candidates[links[layout.candidate_index][in_range]]
    return _group_by_jet(rows, jet_index[in_range], events.FatJet)


def recluster(
    events: ak.Array,
    algorithm: str = "antikt",
    radius: float = 1.0,
    ptmin: float = 200.0,
    puppi: Puppi = "auto",
) -> tuple[ak.Array, ak.Array]:
    """Cluster the PF candidates with fastjet.

    Args:
        events: NanoEvents with a PF-candidate collection (``PFCands`` or ``PFCand``).
        algorithm: ``"antikt"``, ``"kt"`` or ``"cambridge"``.
        radius: the jet radius R.
        ptmin: the jet pT threshold, GeV.
        puppi: as for :func:`fatjet_constituents`; weights are applied before clustering.

    Returns:
        ``jets`` (``events × jets``, pt-ordered, Momentum4D with ``nConstituents``) and their
        ``constituents`` (``events × jets × constituents``), as :func:`fatjet_constituents`.
    """
    from jetad.clustering import cluster  # fastjet, imported only to recluster

    candidates = _candidates(events, candidate_layout(events), puppi)
    jets, index = cluster(candidates, radius, ptmin, algorithm)
    constituents = nest_by_jet(candidates[ak.flatten(index, axis=2)], ak.num(index, axis=2))
    return ak.with_name(jets, "Momentum4D"), constituents
