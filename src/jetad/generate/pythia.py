"""Pythia 8 event generation in blocks, returned as awkward arrays of truth particles.

A block is a fixed range of events with its own Pythia seed, so the output depends only on the
user's seed and never on how blocks are spread over processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from jetad._extras import require

__all__ = ["PS_WEIGHT_SETTINGS", "TruthBlock", "block_seeds", "generate_truth"]

PYTHIA_MAX_SEED = 900_000_000

#: Pythia's automated parton-shower variations (``UncertaintyBands``), one weight each, in
#: NanoAOD's ``PSWeight`` order: [0] ISR μ_R × 2, [1] FSR μ_R × 2, [2] ISR μ_R × 0.5,
#: [3] FSR μ_R × 0.5 (NanoAOD: "ISR=2 FSR=1", "ISR=1 FSR=2", "ISR=0.5 FSR=1", "ISR=1 FSR=0.5").
PS_VARIATIONS = ("isr2", "fsr2", "isr0p5", "fsr0p5")
PS_WEIGHT_SETTINGS = (
    "UncertaintyBands:doVariations = on",
    "UncertaintyBands:List = {isr2 isr:muRfac=2.0, fsr2 fsr:muRfac=2.0, "
    "isr0p5 isr:muRfac=0.5, fsr0p5 fsr:muRfac=0.5}",
)


@dataclass(frozen=True)
class TruthBlock:
    """Truth record of one block of events.

    Attributes:
        final: final-state particles, ``events × particles`` with fields ``px, py, pz, e``
            (GeV), ``pid``, ``charge`` (e) and ``visible`` (False for neutrinos and stable
            dark-sector particles).
        heavy_hadrons: b and c hadrons, ``events × hadrons`` with ``px, py, pz, e`` and
            ``flavour`` (5 or 4), for truth-matched b tagging.
        sigma_pb: Pythia's estimate of the generated cross-section, in pb.
        ps_weights: ``events × 4`` parton-shower variation weights relative to the nominal
            one (:data:`PS_VARIATIONS` order), or None without :data:`PS_WEIGHT_SETTINGS`.
    """

    final: ak.Array
    heavy_hadrons: ak.Array
    sigma_pb: float
    ps_weights: np.ndarray | None = None


def block_seeds(seed: int, block: int) -> tuple[int, np.random.SeedSequence]:
    """The Pythia seed (1..900 000 000) and the numpy seed sequence for one block."""
    sequence = np.random.SeedSequence([seed, block])
    pythia_seed = int(sequence.generate_state(1)[0]) % PYTHIA_MAX_SEED + 1
    return pythia_seed, sequence


def _particle_table(pythia, pids: np.ndarray) -> dict[str, np.ndarray]:
    """Per-particle properties looked up once per distinct PDG id."""
    data = pythia.particleData
    unique, inverse = np.unique(pids, return_inverse=True)
    charge = np.array([data.charge(int(i)) for i in unique], dtype=np.float64)
    visible = np.array([data.isVisible(int(i)) for i in unique], dtype=bool)
    heavy = np.array(
        [abs(data.heaviestQuark(int(i))) if data.isHadron(int(i)) else 0 for i in unique],
        dtype=np.int32,
    )
    return {
        "charge": charge[inverse],
        "visible": visible[inverse],
        "heavy_flavour": heavy[inverse],
    }


def generate_truth(settings: list[str], n_events: int, pythia_seed: int) -> TruthBlock:
    """Run Pythia for ``n_events`` events with the given settings and seed.

    Events that Pythia fails to generate are replaced by new ones, so the block always has
    exactly ``n_events`` events.
    """
    pythia8mc = require("pythia8mc", "event generation (jetad generate)")

    pythia = pythia8mc.Pythia("", False)
    for line in [*settings, "Random:setSeed = on", f"Random:seed = {pythia_seed}"]:
        if not pythia.readString(line):
            raise ValueError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError("Pythia failed to initialise; check the card settings")

    batches, weights = [], []
    remaining = n_events
    while remaining > 0:
        batch = pythia.nextBatch(remaining)
        if len(batch) == 0:
            raise RuntimeError("Pythia failed to generate any event in a batch")
        batches.append(batch.prt)
        weights.append(ak.to_numpy(ak.to_regular(batch.info.weights, axis=1)))
        remaining -= len(batch)
    prt = ak.concatenate(batches) if len(batches) > 1 else batches[0]
    names = [str(name).lower() for name in pythia.infoPython().weightNameVector()]
    ps_weights = None
    if all(name in names for name in PS_VARIATIONS):
        table = np.concatenate(weights)
        columns = [names.index(name) for name in PS_VARIATIONS]
        ps_weights = table[:, columns] / table[:, :1]

    counts = ak.num(prt)
    flat = ak.flatten(prt)
    pids = ak.to_numpy(flat.id)
    table = _particle_table(pythia, pids)
    status = ak.to_numpy(flat.status)
    momentum = {c: ak.to_numpy(flat.p[c]) for c in ("px", "py", "pz", "e")}

    def select(mask: np.ndarray, fields: dict[str, np.ndarray]) -> ak.Array:
        per_event = ak.unflatten(mask, counts)
        return ak.zip(
            {k: ak.unflatten(v[mask], ak.sum(per_event, axis=1)) for k, v in fields.items()}
        )

    final_mask = status > 0
    final = select(
        final_mask,
        {
            **momentum,
            "pid": pids.astype(np.int32),
            "charge": table["charge"],
            "visible": table["visible"],
        },
    )
    heavy_mask = table["heavy_flavour"] >= 4
    heavy = select(heavy_mask, {**momentum, "flavour": table["heavy_flavour"]})
    sigma_pb = pythia.infoPython().sigmaGen() * 1e9
    return TruthBlock(final=final, heavy_hadrons=heavy, sigma_pb=float(sigma_pb),
                      ps_weights=ps_weights)
