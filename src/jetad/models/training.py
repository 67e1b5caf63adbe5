"""Training of the autoencoder family, deterministic on CPU for a given seed.

One function, :func:`train`, covers the AE and the VAE and their ensembles: members differ
only in their seed. The epoch of each member is chosen by a rule from
:mod:`jetad.models.stopping` on the validation history:

- VAE: the KL peak (Bortolato et al.); if no peak is established within the epoch budget, the
  last epoch (the KL had not peaked yet, so training was still under way);
- AE: the smallest validation loss;
- WNAE: the smallest validation EMD (fresh chains, see :mod:`jetad.models.wnae`);
- NAE: the last epoch (its loss has no well-defined optimum).

:meth:`TrainConfig.for_model` gives each model the settings of its paper.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from jetad.models.networks import AE, VAE
from jetad.models.preprocessing import fit_preprocessing
from jetad.models.stopping import kl_peak_epoch, min_epoch
from jetad.models.wnae import NAE, WNAE, LangevinSampler, SamplerConfig

__all__ = ["MODELS", "TrainConfig", "TrainedModel", "train"]

MODELS = ("vae", "ae", "wnae", "nae")
#: Validation rows used for the WNAE's EMD (the exact EMD needs O(n²) memory).
WNAE_VALIDATION_ROWS = 1024


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters; the defaults are Bortolato et al.'s VAE (REFERENCE.md §3)."""

    model: str = "vae"
    hidden: tuple[int, ...] = (64, 64, 64)
    latent: int = 1
    activation: str = "selu"
    alpha: float = 5000.0
    preprocessing: str = "maxabs"
    optimizer: str = "adadelta"
    learning_rate: float = 1.0
    batch_size: int = 128
    epochs: int = 100
    ensemble: int = 1
    seed: int = 0
    validation_fraction: float = 0.25
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    pretrain_epochs: int = 0

    @classmethod
    def for_model(cls, model: str, **overrides) -> TrainConfig:
        """The paper's settings for ``model``, updated by ``overrides``.

        - ``vae``, ``ae``: Bortolato et al.: 3×64 SeLU, Adadelta, batch 128, MaxAbs inputs
          (latent 1 for the VAE; 3 for the AE, which has no KL to regularise it);
        - ``wnae``: Eble: 10-10-6-10-10, AdamW 5e-4, batch 256, quantile→normal inputs,
          PCD Langevin chains of 10 steps;
        - ``nae``: the same network, 20 epochs of AE pre-training, then the NAE loss with
          on-manifold-initialised chains.
        """
        wnae = {
            "hidden": (10, 10),
            "latent": 6,
            "activation": "relu",
            "optimizer": "adamw",
            "learning_rate": 5e-4,
            "batch_size": 256,
            "preprocessing": "quantile",
            "epochs": 60,
        }
        base = {
            "vae": {},
            "ae": {"latent": 3},
            "wnae": wnae,
            "nae": {**wnae, "pretrain_epochs": 20, "sampler": SamplerConfig(init="omi")},
        }
        if model not in base:
            raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
        return cls(model=model, **{**base[model], **overrides})

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; valid: {', '.join(MODELS)}")
        if self.optimizer not in ("adadelta", "adam", "adamw"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: adadelta, adam, adamw")
        if self.ensemble < 1 or self.epochs < 1:
            raise ValueError("ensemble and epochs must be at least 1")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainedModel:
    """The fitted preprocessing, the chosen network of every member, and their histories."""

    config: TrainConfig
    preprocessing: nn.Module
    members: list[nn.Module]
    histories: list[dict[str, list[float]]]
    chosen_epochs: list[int]
    validation: np.ndarray = field(repr=False)
    score_names: tuple[str, ...] = ()


def _network(config: TrainConfig, n_features: int) -> nn.Module:
    hidden = list(config.hidden)
    if config.model == "vae":
        return VAE(n_features, hidden, config.latent, config.activation, config.alpha)
    if config.model == "wnae":
        return WNAE(n_features, hidden, config.latent, config.activation)
    if config.model == "nae":
        return NAE(n_features, hidden, config.latent, config.activation)
    return AE(n_features, hidden, config.latent, config.activation)


def _optimizer(config: TrainConfig, parameters) -> torch.optim.Optimizer:
    if config.optimizer == "adadelta":
        return torch.optim.Adadelta(parameters, lr=config.learning_rate, rho=0.95)
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.learning_rate)
    return torch.optim.AdamW(parameters, lr=config.learning_rate)


def _validation_metrics(
    network: nn.Module, x: torch.Tensor, seed: int, sampler: LangevinSampler | None
) -> dict[str, float]:
    torch.manual_seed(seed)
    if sampler is not None:
        return sampler.validation(network, x[:WNAE_VALIDATION_ROWS])
    with torch.no_grad():
        loss, parts = network.loss(x)
    return {"loss": float(loss), **{k: float(v) for k, v in parts.items()}}


def _loss(config, network, sampler, batch, epoch):
    if config.model == "wnae":
        return sampler.loss(network, batch)
    if config.model == "nae" and epoch >= config.pretrain_epochs:
        return sampler.nae_loss(network, batch)
    return network.loss(batch)


def _choose_epoch(config: TrainConfig, history: dict[str, list[float]]) -> int:
    if config.model == "vae":
        peak = kl_peak_epoch(history["val_kl"])
        return peak if peak is not None else len(history["val_kl"]) - 1
    if config.model == "wnae":
        return min_epoch(history["val_emd"])
    if config.model == "nae":
        return len(history["val_emd"]) - 1
    return min_epoch(history["val_loss"])


def train(
    x: np.ndarray,
    config: TrainConfig,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
    device: str = "cpu",
) -> TrainedModel:
    """Train ``config.ensemble`` members on ``x`` (rows × features, finite values).

    Args:
        x: background-only training data; a seeded ``validation_fraction`` is held out for
            epoch selection and the working points.
        config: the hyperparameters.
        progress: called as ``progress(member, epoch, metrics)`` after every epoch.
        device: ``"cpu"`` or ``"cuda"``.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) < 10:
        raise ValueError(f"training needs a rows × features matrix with ≥ 10 rows, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("training data contain NaN or inf; drop those rows first")
    order = np.random.default_rng(config.seed).permutation(len(x))
    n_val = max(1, int(round(config.validation_fraction * len(x))))
    train_x, val_x = x[order[n_val:]], x[order[:n_val]]
    preprocessing = fit_preprocessing(config.preprocessing, train_x)
    with torch.no_grad():
        train_t = preprocessing(torch.from_numpy(train_x)).to(device)
        val_t = preprocessing(torch.from_numpy(val_x)).to(device)

    members, histories, chosen = [], [], []
    for member in range(config.ensemble):
        seed = config.seed * 1000 + member
        torch.manual_seed(seed)
        network = _network(config, x.shape[1]).to(device)
        optimizer = _optimizer(config, network.parameters())
        normalized = config.model in ("wnae", "nae")
        sampler = LangevinSampler(config.sampler, x.shape[1]) if normalized else None
        generator = torch.Generator().manual_seed(seed)
        history: dict[str, list[float]] = {}
        states = []
        for epoch in range(config.epochs):
            network.train()
            permutation = torch.randperm(len(train_t), generator=generator)
            total, batches = 0.0, 0
            for start in range(0, len(train_t), config.batch_size):
                batch = train_t[permutation[start : start + config.batch_size].to(device)]
                loss, _ = _loss(config, network, sampler, batch, epoch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total, batches = total + loss.item(), batches + 1
            network.eval()
            metrics = {"train_loss": total / batches}
            validation = _validation_metrics(network, val_t, seed, sampler)
            metrics.update({f"val_{k}": v for k, v in validation.items()})
            for key, value in metrics.items():
                history.setdefault(key, []).append(value)
            states.append(copy.deepcopy(network.state_dict()))
            if progress is not None:
                progress(member, epoch, metrics)
        epoch = _choose_epoch(config, history)
        network.load_state_dict(states[epoch])
        members.append(network.cpu().eval())
        histories.append(history)
        chosen.append(epoch)
    return TrainedModel(
        config=config,
        preprocessing=preprocessing,
        members=members,
        histories=histories,
        chosen_epochs=chosen,
        validation=val_x,
        score_names=members[0].score_names,
    )
