"""Latent-space characterisation: what an excess is made of and where it sits in m_jj.

Bortolato et al. ("Bump hunting in latent space", §V): the encoder of a trained VAE is frozen,
and a new decoder learns the inputs back from the latent *and* m_jj:

    inputs  z ~ N(z̄, σ_z) from the frozen encoder,  m ~ N(m_jj, (0.025 m_jj)²), standard-scaled,
    loss    the reconstruction (MSE) of the same preprocessed features, alone; Adam;
            the epoch of smallest validation loss, stopping ``patience`` epochs after it.

Decoded over a grid of (m_jj, z̄) and mapped back to physical units, each observable becomes a
heat map in which a resonance shows as a patch at its m_jj: the W′ → X Y events of a
pseudo-dataset make the decoded heavier-jet mass rise towards m_X at m_jj ≈ m_W′ (the paper's
figures 6–8).

**A number beside the picture** (beyond the paper, which reads the heat maps by eye). For each
observable j the *profile* P_j(m_k) is the mean, over the events of m_jj slice k (equal widths
in ln m_jj, at least 100 events each), of the decoder's value at (z̄_i, m_k): what the decoder
says the events of that slice look like. A resonance adds a local feature to some profile;
a smooth background does not. Each slice is compared with a smooth interpolation of the others,
a quadratic in ln m_jj fitted to the slices beyond its two neighbours (a resonance spans
about three slices). The noise is the decoder's own (its shape in m_jj changes from training
to training far more than the statistical error of a slice mean), so it is measured by that
fit itself: with s_j(k) its residual standard error and h_k the leverage of slice k, the
prediction's t statistic is

    t_jk = (P_j(m_k) − P̂_j(m_k)) / (s_j(k) √(1 + h_k)),

and the **localisation statistic** is T = max_jk |t_jk| over the slices that have fitted
slices beyond their neighbours on both sides (the others would be extrapolated), reported with
its m_jj and observable. Neither the decoder's noise nor the maximum over slices and
observables has a closed-form distribution: calibrate T on background-only trainings, as
``bench/characterise.py`` does (S/B = 0 against 1%, 3% and 10%).

Only affine preprocessings (MaxAbs, standard, robust: the VAE's) can be inverted to physical
units; others are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from jetad.models.export import load_metadata, load_model
from jetad.models.networks import mlp

__all__ = [
    "Characterisation",
    "DecoderConfig",
    "MassDecoder",
    "characterise",
    "characterise_files",
    "decode",
    "fit_mass_decoder",
    "localisation",
    "vae_encoder",
]

MASS_SMEARING = 0.025  # σ_m / m_jj of the decoder's mass input (Bortolato et al.)


@dataclass(frozen=True)
class DecoderConfig:
    """The decoder of Bortolato et al. §V: the VAE's 3×64 SeLU, Adam, validation-loss stop."""

    hidden: tuple[int, ...] = (64, 64, 64)
    activation: str = "selu"
    learning_rate: float = 1e-3
    batch_size: int = 1000
    epochs: int = 100
    patience: int = 10
    validation_fraction: float = 0.25
    use_mass: bool = True
    seed: int = 0


class MassDecoder(nn.Module):
    """(z, m_jj [GeV]) → the VAE's preprocessed features; m_jj standard-scaled inside."""

    def __init__(self, latent: int, n_features: int, mjj: np.ndarray, config: DecoderConfig):
        super().__init__()
        self.network = mlp([latent + 1, *config.hidden, n_features], config.activation)
        self.register_buffer("mjj_mean", torch.tensor(float(np.mean(mjj))))
        self.register_buffer("mjj_std", torch.tensor(float(np.std(mjj))))
        self.use_mass = config.use_mass

    def forward(self, z: torch.Tensor, mjj: torch.Tensor) -> torch.Tensor:
        m = (mjj - self.mjj_mean) / self.mjj_std
        if not self.use_mass:
            m = torch.zeros_like(m)
        return self.network(torch.cat([z, m[:, None]], dim=1))


def vae_encoder(model_path: str | Path, member: int = 0):
    """The preprocessing and the ``member``-th VAE of an exported model, and its metadata; a
    one-line ValueError naming the file for a model that is not a VAE with an affine
    preprocessing, or a member it does not have."""
    metadata = load_metadata(model_path)
    if metadata.get("config", {}).get("model") != "vae":
        raise ValueError(
            f"model {str(model_path)!r} is a {metadata.get('config', {}).get('model', 'weakly')}"
            f" model; the latent characterisation needs a VAE (jetad train --model vae)"
        )
    scripted = load_model(model_path)
    members = len(metadata["chosen_epochs"])
    if not 0 <= member < members:
        raise ValueError(f"model {str(model_path)!r} has members 0–{members - 1}, not {member}")
    preprocessing = scripted.preprocessing
    if not hasattr(preprocessing, "scale"):
        raise ValueError(
            f"model {str(model_path)!r}: the {metadata['config']['preprocessing']!r} "
            f"preprocessing cannot be inverted to physical units; use maxabs, standard or robust"
        )
    return preprocessing, getattr(scripted.members, str(member)), metadata


def _encode(preprocessing, vae, x: np.ndarray) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        y = preprocessing(torch.from_numpy(np.asarray(x, dtype=np.float32)))
        mean, log_var = vae.encode(y)
    return y, mean, (0.5 * log_var).exp()


def fit_mass_decoder(
    preprocessing, vae, x: np.ndarray, mjj: np.ndarray, config: DecoderConfig = DecoderConfig()
) -> tuple[MassDecoder, list[float]]:
    """Train a :class:`MassDecoder` on (``x`` raw features, ``mjj`` GeV) through the frozen
    encoder of ``vae``; returns it at its best validation epoch and the validation losses."""
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    y, mean, sigma = _encode(preprocessing, vae, x)
    m = torch.from_numpy(np.asarray(mjj, dtype=np.float32))
    held = np.zeros(len(x), dtype=bool)
    held[rng.permutation(len(x))[: max(1, int(config.validation_fraction * len(x)))]] = True
    train_rows = torch.from_numpy(np.flatnonzero(~held))
    held_rows = torch.from_numpy(np.flatnonzero(held))
    decoder = MassDecoder(mean.shape[1], y.shape[1], np.asarray(mjj), config)
    optimiser = torch.optim.Adam(decoder.parameters(), lr=config.learning_rate)

    def loss(rows: torch.Tensor) -> torch.Tensor:
        z = mean[rows] + sigma[rows] * torch.randn_like(mean[rows])
        mass = m[rows] * (1 + MASS_SMEARING * torch.randn_like(m[rows]))
        return ((decoder(z, mass) - y[rows]) ** 2).mean()

    history, best, best_state = [], np.inf, None
    for _ in range(config.epochs):
        decoder.train()
        for batch in train_rows[torch.randperm(len(train_rows))].split(config.batch_size):
            optimiser.zero_grad()
            loss(batch).backward()
            optimiser.step()
        decoder.eval()
        with torch.no_grad():
            history.append(float(loss(held_rows)))
        if history[-1] < best:
            best, best_state = history[-1], {k: v.clone() for k, v in decoder.state_dict().items()}
        elif len(history) - 1 - int(np.argmin(history)) >= config.patience:
            break
    decoder.load_state_dict(best_state)
    return decoder.eval(), history


def _physical(preprocessing, y: torch.Tensor) -> np.ndarray:
    """Invert the affine preprocessing: x = y · scale + shift."""
    return (y * preprocessing.scale + preprocessing.shift).numpy()


def decode(preprocessing, decoder: MassDecoder, z: np.ndarray, mjj: np.ndarray) -> np.ndarray:
    """Decoded features in physical units at the points (z̄, m_jj)."""
    with torch.no_grad():
        y = decoder(torch.as_tensor(np.asarray(z, np.float32)).reshape(len(mjj), -1),
                    torch.as_tensor(np.asarray(mjj, np.float32)))  # fmt: skip
    return _physical(preprocessing, y)


def localisation(
    profiles: np.ndarray,
    mjj_centres: np.ndarray,
    names: Sequence[str],
    degree: int = 2,
    exclude: int = 1,
) -> dict:
    """The localisation statistic of ``profiles`` (features × slices; see the module): each
    inner slice against a polynomial in ln m_jj through the slices more than ``exclude`` away,
    as the t statistic of that fit's prediction."""
    needed = degree + 2 * exclude + 4  # a slice, its neighbours, a fit with a residual dof
    if len(mjj_centres) < needed:
        return {"statistic": None, "mjj": None, "feature": None,
                "per_feature": {}, "reason": f"{len(mjj_centres)} m_jj slices, {needed} needed"}
    u = np.log(mjj_centres / mjj_centres[0])
    design = np.vander(u, degree + 1)
    t = np.zeros_like(profiles)
    # only slices with fitted slices beyond their neighbours on both sides: interpolated
    for k in range(exclude + 1, len(u) - exclude - 1):
        away = np.abs(np.arange(len(u)) - k) > exclude
        fit, *_ = np.linalg.lstsq(design[away], profiles[:, away].T, rcond=None)
        spread = np.sqrt(((design[away] @ fit - profiles[:, away].T) ** 2).sum(axis=0)
                         / (away.sum() - degree - 1))  # fmt: skip
        leverage = design[k] @ np.linalg.pinv(design[away].T @ design[away]) @ design[k]
        error = np.where(spread > 0, spread, np.inf) * np.sqrt(1 + leverage)
        t[:, k] = np.abs(profiles[:, k] - design[k] @ fit) / error
    j, k = np.unravel_index(int(np.argmax(t)), t.shape)
    return {"statistic": float(t[j, k]), "mjj": float(mjj_centres[k]), "feature": names[j],
            "per_feature": {n: float(t[i].max()) for i, n in enumerate(names)}}  # fmt: skip


@dataclass
class Characterisation:
    """The decoder's picture of a dataset, in physical units.

    ``decoded[j, a, b]`` is observable j at (``mjj_grid[a]``, ``z_grid[b]``); ``profiles[j, k]``
    the slice profile of observable j (see the module) at ``mjj_centres[k]``; ``pulls``
    (median decoded − median input) / σ_input per observable, for each event class;
    ``events``: each event's m_jj, z̄ and class (``background``, or ``signal`` where the truth
    is known)."""

    names: tuple[str, ...]
    units: tuple[str, ...]
    mjj_grid: np.ndarray
    z_grid: np.ndarray
    decoded: np.ndarray
    mjj_centres: np.ndarray
    profiles: np.ndarray
    localisation: dict
    pulls: dict[str, list[float]]
    events: dict[str, np.ndarray] = field(repr=False)
    history: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        return {"features": list(self.names), "units": list(self.units),
                "localisation": self.localisation, "pulls": self.pulls,
                "mjj_centres": self.mjj_centres.tolist(), "profiles": self.profiles.tolist(),
                "decoder_validation_loss": self.history}  # fmt: skip


def _slices(mjj: np.ndarray, n_slices: int, min_events: int) -> np.ndarray:
    """Edges equal in ln m_jj between the 2% and 98% quantiles, merged until every slice has
    ``min_events``."""
    low, high = np.quantile(mjj, [0.02, 0.98])
    edges = np.exp(np.linspace(np.log(low), np.log(high), n_slices + 1))
    counts = np.histogram(mjj, edges)[0]
    while len(edges) > 4 and counts.min() < min_events:
        k = int(np.argmin(counts))
        edges = np.delete(edges, k + 1 if k < len(counts) - 1 else k)
        counts = np.histogram(mjj, edges)[0]
    return edges


def characterise(
    preprocessing,
    vae,
    decoder: MassDecoder,
    x: np.ndarray,
    mjj: np.ndarray,
    names: Sequence[str],
    units: Sequence[str],
    signal: np.ndarray | None = None,
    n_slices: int = 16,
    grid: int = 60,
    min_events: int = 100,
) -> Characterisation:
    """Heat maps, slice profiles, pulls and the localisation statistic of (``x``, ``mjj``)
    through a trained :class:`MassDecoder`; ``signal`` marks the true signal events of a
    pseudo-dataset (used for the pictures and pulls only, never for the statistic); the m_jj
    slices are merged until each holds ``min_events``."""
    _, mean, _ = _encode(preprocessing, vae, x)
    zbar = mean.numpy()[:, 0]
    signal = np.zeros(len(x), dtype=bool) if signal is None else np.asarray(signal, dtype=bool)
    mjj_grid = np.exp(np.linspace(*np.log(np.quantile(mjj, [0.01, 0.99])), grid))
    z_grid = np.linspace(*np.quantile(zbar, [0.005, 0.995]), grid)
    mm, zz = np.meshgrid(mjj_grid, z_grid, indexing="ij")
    decoded = decode(preprocessing, decoder, zz.ravel(), mm.ravel())
    decoded = decoded.T.reshape(len(names), grid, grid)
    edges = _slices(mjj, n_slices, min_events)
    centres = np.sqrt(edges[1:] * edges[:-1])
    which = np.clip(np.searchsorted(edges, mjj, side="right") - 1, 0, len(centres) - 1)
    inside = (mjj >= edges[0]) & (mjj < edges[-1])
    profiles = np.zeros((len(names), len(centres)))
    for k in range(len(centres)):
        chosen = inside & (which == k)
        values = decode(preprocessing, decoder, zbar[chosen], np.full(chosen.sum(), centres[k]))
        profiles[:, k] = values.mean(axis=0)
    at_events = decode(preprocessing, decoder, zbar, mjj)
    pulls = {}
    for label, chosen in (("background", ~signal), ("signal", signal)):
        if chosen.sum() > 1:
            spread = np.where(x[chosen].std(axis=0) > 0, x[chosen].std(axis=0), 1.0)
            pulls[label] = ((np.median(at_events[chosen], axis=0) - np.median(x[chosen], axis=0))
                            / spread).tolist()  # fmt: skip
    return Characterisation(
        tuple(names), tuple(units), mjj_grid, z_grid, decoded, centres, profiles,
        localisation(profiles, centres, names), pulls,
        {"mjj": np.asarray(mjj), "zbar": zbar, "signal": signal},
    )


def characterise_files(
    model_path: str | Path,
    data: Sequence[str | Path],
    output: str | Path,
    signal: Sequence[str | Path] = (),
    member: int = 0,
    config: DecoderConfig = DecoderConfig(),
) -> Characterisation:
    """The whole characterisation of the events in ``data`` (and ``signal``, whose events are
    added and marked as signal, for pseudo-data) with member ``member`` of the VAE at
    ``model_path``: trains the decoder, writes ``decoder.pt`` (TorchScript, with
    ``decoder.json``: model, member, configuration), ``characterisation.json`` and the plots
    into ``output``; returns the :class:`Characterisation`."""
    import json
    from dataclasses import asdict

    from jetad.datasets import feature_rows
    from jetad.features import get_feature_set
    from jetad.plotting import plot_characterisation

    preprocessing, vae, metadata = vae_encoder(model_path, member)
    feature_set = get_feature_set(metadata["feature_set"])
    parts, labels = [], []
    for files, label in ((data, 0), (signal, 1)):
        if files:
            rows, _ = feature_rows(feature_set, files, also=("mjj",))
            parts.append(np.asarray(rows, dtype=float))
            labels.append(np.full(len(parts[-1]), label))
    rows, truth = np.concatenate(parts), np.concatenate(labels)
    if len(rows) < 500:
        raise ValueError(f"{len(rows)} selected events in {[str(f) for f in data]}: the "
                         f"characterisation needs at least 500")  # fmt: skip
    x, mjj = rows[:, :-1], rows[:, -1]
    decoder, history = fit_mass_decoder(preprocessing, vae, x, mjj, config)
    units = [feature.unit for feature in feature_set.features]
    result = characterise(preprocessing, vae, decoder, x, mjj, feature_set.names, units,
                          truth == 1 if signal else None)  # fmt: skip
    result.history = history
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    torch.jit.script(decoder).save(str(output / "decoder.pt"))
    about = {"model": str(model_path), "member": member, "feature_set": feature_set.name,
             "config": asdict(config), "mass_smearing": MASS_SMEARING,
             "data": [str(f) for f in data], "signal": [str(f) for f in signal]}  # fmt: skip
    (output / "decoder.json").write_text(json.dumps(about, indent=2))
    (output / "characterisation.json").write_text(json.dumps(result.to_dict(), indent=1))
    plot_characterisation(result, output, title=f"{Path(model_path).name}, member {member}")
    return result
