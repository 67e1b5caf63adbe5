"""Training of the autoencoder family, deterministic on CPU for a given seed.

One function, :func:`train`, covers the AE and the VAE and their ensembles: members differ
only in their seed. The epoch of each member is chosen by a rule from
:mod:`jetad.models.stopping` on the validation history:

- VAE: the KL peak (Bortolato et al.); if no peak is established within the epoch budget, the
  last epoch (the KL had not peaked yet, so training was still under way);
- AE: the smallest validation loss;
- WNAE: the smallest validation EMD (fresh chains, see :mod:`jetad.models.wnae`);
- NAE: the last epoch (its loss has no well-defined optimum);
- ℓ+X VAE (``hltvae``, Cerri et al.): the smallest validation loss;
- constituent VAE (``cvae``, Cheng et al.): the smallest validation VAE loss. With outlier
  exposure (``oe="mse"`` or ``"kl"``) a second, outlier sample enters the loss as
  L_VAE − λ_t·L_OE, λ_t rising linearly from 0 to λ over each half of an ``oe_period``-epoch
  cycle and then held (cyclical annealing).

:meth:`TrainConfig.for_model` gives each model the settings of its paper.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from jetad.models.hltvae import HLT21_LIKELIHOODS, HLTVAE
from jetad.models.networks import AE, VAE, outlier_exposure
from jetad.models.preprocessing import fit_preprocessing
from jetad.models.stopping import kl_peak_epoch, min_epoch
from jetad.models.wnae import NAE, WNAE, LangevinSampler, SamplerConfig

__all__ = ["MODELS", "TrainConfig", "TrainedModel", "train"]

MODELS = ("vae", "ae", "wnae", "nae", "cvae", "hltvae")
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
    beta: float = 1.0
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
    oe: str | None = None
    oe_lambda: float = 2.0
    oe_margin: float = 2.0
    oe_period: int = 10

    @classmethod
    def for_model(cls, model: str, **overrides) -> TrainConfig:
        """The paper's settings for ``model``, updated by ``overrides``.

        - ``vae``, ``ae``: Bortolato et al.: 3×64 SeLU, Adadelta, batch 128, MaxAbs inputs
          (latent 1 for the VAE; 3 for the AE, which has no KL to regularise it);
        - ``wnae``: Eble: 10-10-6-10-10, AdamW 5e-4, batch 256, quantile→normal inputs,
          PCD Langevin chains of 10 steps;
        - ``nae``: the same network, 20 epochs of AE pre-training, then the NAE loss with
          on-manifold-initialised chains;
        - ``cvae``: Cheng et al.: 256-128-64 ReLU, latent 10, MSE + β·KL with β = 1, Adam,
          RobustScaler inputs (the ``constituents20`` features);
        - ``hltvae``: Cerri et al.'s code: 70-70 ReLU, latent 6, per-feature likelihoods on the
          raw ``hlt21`` features, Adam.
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
            "cvae": {
                "hidden": (256, 128, 64),
                "latent": 10,
                "activation": "relu",
                "alpha": 1.0,
                "optimizer": "adam",
                "learning_rate": 1e-3,
                "batch_size": 256,
                "preprocessing": "robust",
                "epochs": 50,
            },
            "hltvae": {
                "hidden": (70, 70),
                "latent": 6,
                "activation": "relu",
                "optimizer": "adam",
                "learning_rate": 1e-3,
                "batch_size": 256,
                "preprocessing": "none",
                "epochs": 50,
            },
        }
        if model not in base:
            raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
        return cls(model=model, **{**base[model], **overrides})

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; valid: {', '.join(MODELS)}")
        if self.optimizer not in ("adadelta", "adam", "adamw"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: adadelta, adam, adamw")
        if self.oe not in (None, "mse", "kl"):
            raise ValueError(f"unknown outlier exposure {self.oe!r}; valid: mse, kl")
        if self.oe is not None and self.model != "cvae":
            raise ValueError("outlier exposure is defined for the constituent VAE (cvae) only")
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


def _network(config: TrainConfig, train_x: np.ndarray) -> nn.Module:
    hidden = list(config.hidden)
    n_features = train_x.shape[1]
    if config.model == "hltvae":
        if n_features != len(HLT21_LIKELIHOODS):
            raise ValueError(
                f"the hltvae needs the {len(HLT21_LIKELIHOODS)} hlt21 features, got {n_features}"
            )
        return HLTVAE(list(HLT21_LIKELIHOODS.values()), hidden, config.latent, train_x)
    if config.model in ("vae", "cvae"):
        return VAE(n_features, hidden, config.latent, config.activation, config.alpha, config.beta)
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


def _oe_weight(config: TrainConfig, epoch: int) -> float:
    """λ_t of the cyclical annealing: 0 → λ over half a period, then λ until the cycle ends."""
    half = max(config.oe_period / 2, 1)
    return config.oe_lambda * min(1.0, (epoch % config.oe_period) / half)


def _loss(config, network, sampler, batch, epoch, outliers=None):
    if config.model == "wnae":
        return sampler.loss(network, batch)
    if config.model == "nae" and epoch >= config.pretrain_epochs:
        return sampler.nae_loss(network, batch)
    loss, parts = network.loss(batch)
    if outliers is not None:
        exposure = outlier_exposure(network, batch, outliers, config.oe, config.oe_margin)
        loss = loss - _oe_weight(config, epoch) * exposure
        parts = {**parts, "oe": exposure.detach()}
    return loss, parts


def _choose_epoch(config: TrainConfig, history: dict[str, list[float]]) -> int:
    if config.model == "vae":
        peak = kl_peak_epoch(history["val_kl"])
        return peak if peak is not None else len(history["val_kl"]) - 1
    if config.model == "wnae":
        return min_epoch(history["val_emd"])
    if config.model == "nae":
        return len(history["val_emd"]) - 1
    return min_epoch(history["val_loss"])  # ae, cvae, hltvae


def train(
    x: np.ndarray,
    config: TrainConfig,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
    device: str = "cpu",
    outliers: np.ndarray | None = None,
) -> TrainedModel:
    """Train ``config.ensemble`` members on ``x`` (rows × features, finite values).

    Args:
        x: background-only training data; a seeded ``validation_fraction`` is held out for
            epoch selection and the working points.
        config: the hyperparameters.
        outliers: the outlier-exposure sample (rows × the same features), for ``config.oe``.
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
    if (config.oe is None) != (outliers is None):
        raise ValueError("outlier exposure needs both config.oe and an outlier sample")
    preprocessing = fit_preprocessing(config.preprocessing, train_x)
    with torch.no_grad():
        train_t = preprocessing(torch.from_numpy(train_x)).to(device)
        val_t = preprocessing(torch.from_numpy(val_x)).to(device)
        outlier_t = None
        if outliers is not None:
            outlier_t = preprocessing(torch.from_numpy(np.asarray(outliers, np.float32)))
            outlier_t = outlier_t.to(device)

    members, histories, chosen = [], [], []
    for member in range(config.ensemble):
        seed = config.seed * 1000 + member
        torch.manual_seed(seed)
        network = _network(config, train_x).to(device)
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
                exposed = None
                if outlier_t is not None:
                    picks = torch.randint(len(outlier_t), (len(batch),), generator=generator)
                    exposed = outlier_t[picks.to(device)]
                loss, _ = _loss(config, network, sampler, batch, epoch, exposed)
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
