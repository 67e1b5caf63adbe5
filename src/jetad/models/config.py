"""What a training is asked (:class:`TrainConfig`, each model's published settings) and what
it gives back (:class:`TrainedModel`, one :class:`MemberReport` per attempt); see
:mod:`jetad.models.training`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from torch import nn

from jetad.models.wnae import SamplerConfig

__all__ = ["MODELS", "MemberReport", "TrainConfig", "TrainedModel", "TrainingDiverged"]

MODELS = ("vae", "ae", "wnae", "nae", "cvae", "hltvae")


class TrainingDiverged(RuntimeError):
    """Every member of a training diverged; the message lists each member's fate."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters; the defaults are Bortolato et al.'s VAE (REFERENCE.md §3).

    ``learning_rate``, ``rho`` and ``eps`` are Keras' Adadelta defaults, which the published
    code takes from ``optimizer="adadelta"`` (TensorFlow 2.3): lr 1e-3, ρ 0.95, ε 1e-7.
    PyTorch's own default lr of 1.0 is a step 1000× larger and diverges on realistic samples.
    ``eps`` applies to Adadelta; Adam and AdamW keep PyTorch's ε.
    """

    model: str = "vae"
    hidden: tuple[int, ...] = (64, 64, 64)
    latent: int = 1
    activation: str = "selu"
    alpha: float = 5000.0
    beta: float = 1.0
    preprocessing: str = "maxabs"
    optimizer: str = "adadelta"
    learning_rate: float = 1e-3
    rho: float = 0.95
    eps: float = 1e-7
    batch_size: int = 1000
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
    oe_reweight: str | None = None
    clip_grad_norm: float | None = None
    on_divergence: str = "retry"
    max_retries: int = 2
    divergence_factor: float = 100.0
    vectorize: bool = True
    torch_compile: bool = False

    @classmethod
    def for_model(cls, model: str, **overrides) -> TrainConfig:
        """The paper's settings for ``model``, updated by ``overrides``.

        - ``vae``, ``ae``: Bortolato et al. (paper and github alekssmolkovic/BuHuLaSpa):
          3×64 SeLU, Adadelta with TensorFlow's defaults (lr 1e-3, ρ 0.95, ε 1e-7), batch
          1000 (the paper; the code uses 128, about 5× slower per epoch), at most 100
          epochs, MaxAbs inputs (latent 1 for the VAE; 3 for the AE, which has no KL to
          regularise it);
        - ``wnae``: Eble (CMS MLG-24-002): 10-10-6-10-10, AdamW 5e-4, batch 256,
          quantile→normal inputs, PCD Langevin chains of 10 steps;
        - ``nae``: the same network, 20 epochs of AE pre-training, then the NAE loss with
          on-manifold-initialised chains (Yoon et al.: OMI is essential);
        - ``cvae``: Cheng et al. (arXiv:2007.01850): 256-128-64 ReLU, latent 10,
          MSE + β·KL with β = 1, Adam lr 1e-3 (the common default of Keras and PyTorch; the
          paper names no step), RobustScaler inputs (the ``constituents20`` features);
        - ``hltvae``: Cerri et al.'s code (github ocerri/AnomalyDetection): 70-70 ReLU,
          latent 6, per-feature likelihoods on the raw ``hlt21`` features, Adam lr 1e-3.
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
        if self.oe_reweight not in (None, "mass"):
            raise ValueError(f"unknown outlier reweighting {self.oe_reweight!r}; valid: mass")
        if self.oe_reweight is not None and self.oe is None:
            raise ValueError("outlier reweighting needs outlier exposure (oe = mse or kl)")
        if self.torch_compile and not self.stackable:
            raise ValueError(
                "torch_compile (--compile) applies to the stacked ensembles (ae, vae, cvae "
                f"without outlier exposure), not to {self.model}"
                + (" with outlier exposure" if self.oe else "")
            )
        if self.ensemble < 1 or self.epochs < 1:
            raise ValueError("ensemble and epochs must be at least 1")
        if self.on_divergence not in ("retry", "drop"):
            raise ValueError(f"unknown on_divergence {self.on_divergence!r}; valid: retry, drop")
        if not self.learning_rate > 0 or self.batch_size < 1 or self.max_retries < 0:
            raise ValueError("learning_rate and batch_size must be positive, max_retries ≥ 0")
        if self.clip_grad_norm is not None and not self.clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be positive, got {self.clip_grad_norm}")

    @property
    def stackable(self) -> bool:
        """Whether members train as stacked networks (together when ``vectorize``, else one
        at a time through the same code)."""
        return self.model in ("vae", "ae", "cvae") and self.oe is None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MemberReport:
    """What became of one training attempt of one ensemble member."""

    member: int
    attempt: int
    seed: int
    learning_rate: float
    status: str  # "healthy" or "diverged"
    epochs_run: int
    chosen_epoch: int | None = None
    rule: str | None = None
    message: str = ""

    def line(self) -> str:
        where = f"member {self.member} (seed {self.seed}, lr {self.learning_rate:g})"
        if self.status == "healthy":
            return f"{where}: epoch {self.chosen_epoch} by {self.rule}"
        return f"{where}: diverged at epoch {self.epochs_run - 1}: {self.message}"


@dataclass
class TrainedModel:
    """The fitted preprocessing, the chosen network of every healthy member, their histories,
    and a report of every attempt (diverged ones included)."""

    config: TrainConfig
    preprocessing: nn.Module
    members: list[nn.Module]
    histories: list[dict[str, list[float]]]
    chosen_epochs: list[int]
    validation: np.ndarray = field(repr=False)
    score_names: tuple[str, ...] = ()
    rules: list[str] = field(default_factory=list)
    reports: list[MemberReport] = field(default_factory=list)
