"""A parametric, Delphes-like detector: truth final-state particles in, PF candidates out.

Every number lives in :class:`Detector` and is documented in ``datasets/README.md``. The
response is applied per particle class, as CMS particle flow reconstructs them:

=================  ==========================  ===============================================
class              acceptance                  response
=================  ==========================  ===============================================
muon (±13)         |η| < 2.4, pT > 3 GeV        σ(pT)/pT = 1% ⊕ 1e-4·pT (|η| < 1.5), 2% ⊕ 2e-4·pT
electron (±11)     |η| < 2.5, pT > 2 GeV        σ(E)/E = 3%/√E ⊕ 0.5%
charged hadron     |η| < 2.5, pT > 0.5 GeV      σ(pT)/pT = 0.5% ⊕ 1.5e-4·pT (barrel),
                                               1% ⊕ 3e-4·pT (endcap); efficiency 90%
                                               (95% above 1 GeV)
photon (22)        |η| < 3.0, pT > 0.5 GeV      σ(E)/E = 2.8%/√E ⊕ 12%/E ⊕ 0.3%
neutral hadron     |η| < 3.0, pT > 1 GeV        σ(E)/E = 100%/√E ⊕ 5%; η, φ smeared by 0.02
=================  ==========================  ===============================================

Charged particles outside the tracker (2.5 < |η| < 3.0) are seen by the calorimeters:
electrons as photons, hadrons as neutral hadrons. Neutrinos and stable dark-sector particles
are invisible. The energy response rescales the four-momentum at fixed direction and the
candidate takes the PF mass hypothesis (π± for charged hadrons, 0 for photons and neutral
hadrons). All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

__all__ = ["Detector", "pf_candidates", "invisible_momentum"]

PION_MASS = 0.13957039
ELECTRON_MASS = 0.000511
MUON_MASS = 0.1056584


@dataclass(frozen=True)
class Detector:
    """Acceptances (|η|), thresholds (GeV) and resolution terms of the parametric detector."""

    tracker_eta: float = 2.5
    muon_eta: float = 2.4
    calo_eta: float = 3.0
    barrel_eta: float = 1.5
    muon_ptmin: float = 3.0
    electron_ptmin: float = 2.0
    track_ptmin: float = 0.5
    photon_ptmin: float = 0.5
    neutral_hadron_ptmin: float = 1.0
    track_efficiency_low: float = 0.90
    track_efficiency_high: float = 0.95
    track_resolution_barrel: tuple[float, float] = (0.005, 1.5e-4)
    track_resolution_endcap: tuple[float, float] = (0.010, 3.0e-4)
    muon_resolution_barrel: tuple[float, float] = (0.010, 1.0e-4)
    muon_resolution_endcap: tuple[float, float] = (0.020, 2.0e-4)
    electron_resolution: tuple[float, float] = (0.03, 0.005)
    ecal_resolution: tuple[float, float, float] = (0.028, 0.12, 0.003)
    hcal_resolution: tuple[float, float] = (1.00, 0.05)
    hcal_angular_smearing: float = 0.02


def _kinematics(px, py, pz):
    """pT, pseudorapidity and azimuth; particles along the beam get |η| = 1e6 (never accepted)."""
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / pt), np.copysign(1e6, pz))
    return pt, eta, np.arctan2(py, px)


def _quadrature(*terms):
    return np.sqrt(sum(t * t for t in terms))


def pf_candidates(final: ak.Array, rng: np.random.Generator, detector: Detector = Detector()):
    """Reconstruct PF candidates from truth final-state particles.

    Args:
        final: ``events × particles`` with ``px, py, pz, e`` (GeV), ``pid``, ``charge``,
            ``visible``, as made by :func:`jetad.generate.pythia.generate_truth`.
        rng: the random generator of this block of events.
        detector: the response parameters.

    Returns:
        ``events × candidates`` record with NanoAOD PFCands fields ``pt, eta, phi, mass``
        (float32, GeV) and ``charge, pdgId`` (int32).
    """
    d = detector
    counts = ak.to_numpy(ak.num(final))
    flat = ak.flatten(final)
    px, py, pz, e = (ak.to_numpy(flat[c]) for c in ("px", "py", "pz", "e"))
    pid = ak.to_numpy(flat.pid)
    charge = ak.to_numpy(flat.charge)
    visible = ak.to_numpy(flat.visible)
    pt, eta, phi = _kinematics(px, py, pz)
    abseta = np.abs(eta)
    barrel = abseta < d.barrel_eta
    n = len(pt)
    # One draw per particle and purpose, whatever its class, keeps the stream aligned.
    gauss = rng.standard_normal((4, n))
    uniform = rng.random(n)

    apid = np.abs(pid)
    charged = (charge != 0) & visible
    in_tracker = abseta < d.tracker_eta
    is_muon = (apid == 13) & (abseta < d.muon_eta) & (pt > d.muon_ptmin)
    is_electron = (apid == 11) & in_tracker & (pt > d.electron_ptmin)
    track_eff = np.where(pt > 1.0, d.track_efficiency_high, d.track_efficiency_low)
    is_track = (
        charged
        & (apid != 11)
        & (apid != 13)
        & in_tracker
        & (pt > d.track_ptmin)
        & (uniform < track_eff)
    )
    in_calo = visible & (abseta < d.calo_eta)
    out_tracker = ~in_tracker
    is_photon = in_calo & ((apid == 22) | ((apid == 11) & out_tracker)) & (pt > d.photon_ptmin)
    calo_hadron = (~charged & (apid != 22)) | (charged & out_tracker & (apid != 11) & (apid != 13))
    is_neutral_hadron = in_calo & calo_hadron & (pt > d.neutral_hadron_ptmin)

    def track_sigma(resolution_barrel, resolution_endcap):
        b = _quadrature(resolution_barrel[0], resolution_barrel[1] * pt)
        ec = _quadrature(resolution_endcap[0], resolution_endcap[1] * pt)
        return np.where(barrel, b, ec)

    safe_e = np.maximum(e, 1e-3)
    sigma = np.zeros(n)
    sigma = np.where(
        is_track, track_sigma(d.track_resolution_barrel, d.track_resolution_endcap), sigma
    )
    sigma = np.where(
        is_muon, track_sigma(d.muon_resolution_barrel, d.muon_resolution_endcap), sigma
    )
    sigma = np.where(
        is_electron,
        _quadrature(d.electron_resolution[0] / np.sqrt(safe_e), d.electron_resolution[1]),
        sigma,
    )
    ecal = _quadrature(
        d.ecal_resolution[0] / np.sqrt(safe_e), d.ecal_resolution[1] / safe_e, d.ecal_resolution[2]
    )
    sigma = np.where(is_photon, ecal, sigma)
    hcal = _quadrature(d.hcal_resolution[0] / np.sqrt(safe_e), d.hcal_resolution[1])
    sigma = np.where(is_neutral_hadron, hcal, sigma)
    scale = np.maximum(1.0 + sigma * gauss[0], 0.0)

    smear = np.where(is_neutral_hadron, d.hcal_angular_smearing, 0.0)
    eta_reco = eta + smear * gauss[1]
    phi_reco = np.mod(phi + smear * gauss[2] + np.pi, 2 * np.pi) - np.pi
    pt_reco = pt * scale

    pdg = np.zeros(n, dtype=np.int32)
    sign = np.sign(charge).astype(np.int32)
    pdg = np.where(is_track, 211 * sign, pdg)
    pdg = np.where(is_muon, -13 * sign, pdg)
    pdg = np.where(is_electron, -11 * sign, pdg)
    pdg = np.where(is_photon, 22, pdg)
    pdg = np.where(is_neutral_hadron, 130, pdg)
    mass = np.select([is_track, is_muon, is_electron], [PION_MASS, MUON_MASS, ELECTRON_MASS], 0.0)
    has_charge = is_track | is_muon | is_electron
    keep = (pdg != 0) & (pt_reco > 0)

    kept_counts = ak.to_numpy(ak.sum(ak.unflatten(keep, counts), axis=1))
    fields = {
        "pt": pt_reco.astype(np.float32),
        "eta": eta_reco.astype(np.float32),
        "phi": phi_reco.astype(np.float32),
        "mass": mass.astype(np.float32),
        "charge": np.where(has_charge, sign, 0).astype(np.int32),
        "pdgId": pdg,
    }
    return ak.zip({k: ak.unflatten(v[keep], kept_counts) for k, v in fields.items()})


def invisible_momentum(final: ak.Array) -> tuple[ak.Array, ak.Array]:
    """Truth missing transverse momentum (pt, phi), from neutrinos and dark-sector particles."""
    invisible = final[~final.visible]
    px = ak.sum(invisible.px, axis=1)
    py = ak.sum(invisible.py, axis=1)
    return np.hypot(px, py), np.arctan2(py, px)
