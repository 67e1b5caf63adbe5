"""Training of the autoencoder family, deterministic on CPU for a given seed.

One function, :func:`train`, covers every model kind and its seed ensembles: members differ
only in their seed. The epoch of each member is chosen by a rule of
:func:`jetad.models.stopping.choose_epoch` on the validation history, never at a non-finite
epoch, and the history records which rule chose it:

- VAE: the KL peak (Bortolato et al.; training stops once every member's peak is
  established); while no peak is established, the smallest validation loss;
- AE, ℓ+X VAE (``hltvae``, Cerri et al.), constituent VAE (``cvae``, Cheng et al.): the
  smallest validation loss. With outlier exposure (``oe="mse"`` or ``"kl"``) a second,
  outlier sample enters the cvae loss as L_VAE − λ_t·L_OE, λ_t rising linearly from 0 to λ
  over each half of an ``oe_period``-epoch cycle and then held (cyclical annealing). With
  ``oe_reweight="mass"`` the outliers are drawn with weights that give them the background's
  jet-mass distribution (Cheng et al.'s mass-decorrelated OE; the weights are computed by the
  caller, :func:`jetad.decorrelation.mass_weights`), recorded in the model's metadata;
- WNAE: the smallest validation EMD (fresh chains, see :mod:`jetad.models.wnae`);
- NAE: the last finite epoch (its loss has no well-defined optimum).

**Members train together.** AE, VAE and cvae members without outlier exposure are trained as
one stacked network (:class:`jetad.models.stacked.StackedMembers`: one batched matmul per layer
for all members); with ``vectorize=False`` the same code trains them one at a time, and gives
the same members to float rounding. The other kinds train one member after another. While
training, freed tensors stay in the heap for the next step (:func:`jetad.models.heap.kept_heap`).

**Divergence policy.** After every epoch each member is checked
(:func:`jetad.models.stopping.divergence`): a non-finite training loss or validation metric,
or a training loss above ``divergence_factor`` × the validation loss at initialisation, stops
that member and is reported (member, seed, epoch, loss). With ``on_divergence="retry"`` (the
default) it is retrained from a new seed (``seed + 100000·attempt``) with the step divided by
10, at most ``max_retries`` times; a member that still diverges, or any diverged member with
``on_divergence="drop"``, is left out of the ensemble. When no member is healthy,
:class:`TrainingDiverged` is raised and nothing is returned. ``clip_grad_norm`` clips each
member's gradient 2-norm.

:meth:`TrainConfig.for_model` gives each model the settings of its paper, the source named.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from jetad.models.config import (
    MODELS,
    MemberReport,
    TrainConfig,
    TrainedModel,
    TrainingDiverged,
)
from jetad.models.heap import kept_heap
from jetad.models.hltvae import HLT21_LIKELIHOODS, HLTVAE, likelihood_kinds
from jetad.models.networks import AE, VAE, outlier_exposure
from jetad.models.preprocessing import fit_preprocessing
from jetad.models.stacked import StackedMembers
from jetad.models.stopping import choose_epoch, divergence, kl_peak_epoch
from jetad.models.wnae import NAE, WNAE, LangevinSampler

__all__ = ["MODELS", "MemberReport", "TrainConfig", "TrainedModel", "TrainingDiverged", "train"]

#: Validation rows used for the WNAE's EMD (the exact EMD needs O(n²) memory).
WNAE_VALIDATION_ROWS = 1024
VALIDATION_BLOCK = 1000  # rows per block of the stacked ensemble's validation pass
#: Seed offset of a retried member: attempt k trains from ``seed + RETRY_SEED_OFFSET·k``.
RETRY_SEED_OFFSET = 100_000


@dataclass
class _Member:
    """One member's training outcome, before the ensemble is assembled."""

    report: MemberReport
    history: dict[str, list[float]]
    network: nn.Module | None


def _network(config: TrainConfig, train_x: np.ndarray, features=None) -> nn.Module:
    hidden = list(config.hidden)
    n_features = train_x.shape[1]
    if config.model == "hltvae":
        return HLTVAE(likelihood_kinds(features), hidden, config.latent, train_x)
    if config.model in ("vae", "cvae"):
        return VAE(n_features, hidden, config.latent, config.activation, config.alpha, config.beta)
    if config.model == "wnae":
        return WNAE(n_features, hidden, config.latent, config.activation)
    if config.model == "nae":
        return NAE(n_features, hidden, config.latent, config.activation)
    return AE(n_features, hidden, config.latent, config.activation)


def _optimizer(config: TrainConfig, parameters, learning_rate: float) -> torch.optim.Optimizer:
    if config.optimizer == "adadelta":
        return torch.optim.Adadelta(parameters, lr=learning_rate, rho=config.rho, eps=config.eps)
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate)
    return torch.optim.AdamW(parameters, lr=learning_rate)


def _oe_weight(config: TrainConfig, epoch: int) -> float:
    """λ_t of the cyclical annealing: 0 → λ over half a period, then λ until the cycle ends."""
    half = max(config.oe_period / 2, 1)
    return config.oe_lambda * min(1.0, (epoch % config.oe_period) / half)


def _status(config: TrainConfig, history: dict[str, list[float]]) -> str:
    """A short word on where the epoch choice stands, for progress lines."""
    if config.model == "vae":
        peak = kl_peak_epoch(history["val_kl"])
        return f"KL peak at {peak}" if peak is not None else "no KL peak yet"
    return ""


Progress = Callable[[int, int, dict], None]


class _Tracker:
    """Per-member histories, divergence checks and progress calls, shared by both loops."""

    def __init__(self, config, members, seeds, learning_rate, attempt, references, progress):
        self.config, self.members, self.seeds = config, members, seeds
        self.learning_rate, self.attempt, self.progress = learning_rate, attempt, progress
        self.references = references
        self.histories: list[dict[str, list[float]]] = [{} for _ in members]
        self.messages: list[str | None] = [None] * len(members)
        self.stopped = [False] * len(members)

    def alive(self, k: int) -> bool:
        return self.messages[k] is None

    def training(self) -> bool:
        """Whether any member is still training (healthy and not stopped early)."""
        return not all(self.stopped)

    def record(self, k: int, epoch: int, train_loss: float, validation: dict[str, float]):
        """Append an epoch to member ``k``'s history, check its health, and stop it when it
        diverged or (VAE) its KL peak is established. A stopped member records nothing more,
        so training members together or one by one gives the same histories."""
        if self.stopped[k]:
            return
        metrics = {"train_loss": train_loss, **{f"val_{n}": v for n, v in validation.items()}}
        for key, value in metrics.items():
            self.histories[k].setdefault(key, []).append(value)
        reason = divergence(
            train_loss, validation, self.references[k], self.config.divergence_factor
        )
        self.messages[k] = reason
        vae = self.config.model == "vae"
        peaked = vae and kl_peak_epoch(self.histories[k]["val_kl"]) is not None
        self.stopped[k] = reason is not None or peaked
        if self.progress is not None:
            status = f"diverged: {reason}" if reason else _status(self.config, self.histories[k])
            self.progress(
                self.members[k], epoch, {**metrics, "status": status, "attempt": self.attempt}
            )

    def outcome(self, k: int, load: Callable[[int], nn.Module]) -> _Member:
        """Member ``k``'s report, and its network at the chosen epoch (``load(epoch)``)."""
        history = self.histories[k]
        epochs_run = len(history.get("train_loss", []))
        common = {
            "member": self.members[k],
            "attempt": self.attempt,
            "seed": self.seeds[k],
            "learning_rate": self.learning_rate,
            "epochs_run": epochs_run,
        }
        if not self.alive(k):
            report = MemberReport(status="diverged", message=self.messages[k], **common)
            return _Member(report, history, None)
        epoch, rule = choose_epoch(self.config.model, history)
        report = MemberReport(status="healthy", chosen_epoch=epoch, rule=rule, **common)
        return _Member(report, history, load(epoch))


def _train_stacked(config, x_train, x_val, members, seeds, learning_rate, attempt, progress):
    """Train ``members`` (ids) with ``seeds`` together as one stacked AE/VAE."""
    networks = []
    for seed in seeds:
        torch.manual_seed(seed)
        networks.append(_network(config, x_train))
    stacked = StackedMembers(networks)
    latent = config.latent if stacked.is_vae else 0
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    val_noise = torch.stack(
        [
            torch.randn(len(x_val), latent, generator=torch.Generator().manual_seed(seed))
            for seed in seeds
        ]
    )
    val_x = x_val.expand(len(seeds), *x_val.shape)

    def validate() -> list[dict[str, float]]:
        # in blocks of rows (each loss is a mean over rows, so the blocks' means weighted by
        # their sizes): 2.1× faster than one pass over the whole validation set, whose
        # (members, rows, hidden) activations do not fit in the cache
        columns = {}
        with torch.no_grad():
            for start in range(0, len(x_val), VALIDATION_BLOCK):
                block = slice(start, start + VALIDATION_BLOCK)
                full = start + VALIDATION_BLOCK <= len(x_val)
                loss, parts = stacked.losses(val_x[:, block], val_noise[:, block],
                                             compiled=config.torch_compile and full)
                weight = len(x_val[block]) / len(x_val)
                for name, value in {"loss": loss, **parts}.items():
                    columns[name] = columns.get(name, 0.0) + weight * value.double()
        return [{n: float(v[k]) for n, v in columns.items()} for k in range(len(seeds))]

    references = [v["loss"] for v in validate()]
    tracker = _Tracker(config, members, seeds, learning_rate, attempt, references, progress)
    optimizer = _optimizer(config, stacked.parameters(), learning_rate)
    n_rows, states = len(x_train), []
    for epoch in range(config.epochs):
        order = torch.stack([torch.randperm(n_rows, generator=g) for g in generators])
        noise = torch.stack([torch.randn(n_rows, latent, generator=g) for g in generators])
        total, batches = torch.zeros(len(seeds)), 0
        for start in range(0, n_rows, config.batch_size):
            rows = order[:, start : start + config.batch_size]
            # (members, batch, features); index_select takes a third of x_train[rows]'s time
            batch = x_train.index_select(0, rows.flatten()).view(*rows.shape, -1)
            eps = noise[:, start : start + config.batch_size]  # each position its own draw
            full = rows.shape[1] == config.batch_size  # the last, shorter batch: no recompile
            loss, _ = stacked.losses(batch, eps, compiled=config.torch_compile and full)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            if config.clip_grad_norm is not None:
                stacked.clip_grad_norm(config.clip_grad_norm)
            optimizer.step()
            total, batches = total + loss.detach(), batches + 1
        states.append(stacked.state())
        for k, validation in enumerate(validate()):
            tracker.record(k, epoch, float(total[k] / batches), validation)
        if not tracker.training():
            break
    return [
        tracker.outcome(k, lambda epoch, k=k: stacked.load_member(networks[k], states[epoch], k))
        for k in range(len(seeds))
    ]


def _train_one(config, x_train, x_val, member, seed, learning_rate, attempt, progress, outliers,
               features, outlier_weights=None):  # fmt: skip
    """Train one member as an ``nn.Module`` (WNAE, NAE, ℓ+X VAE, cvae with outliers)."""
    torch.manual_seed(seed)
    network = _network(config, x_train, features)
    optimizer = _optimizer(config, network.parameters(), learning_rate)
    normalized = config.model in ("wnae", "nae")
    sampler = LangevinSampler(config.sampler, x_train.shape[1]) if normalized else None
    generator = torch.Generator().manual_seed(seed)

    def validate() -> dict[str, float]:
        torch.manual_seed(seed)
        if sampler is not None:
            return sampler.validation(network, x_val[:WNAE_VALIDATION_ROWS])
        with torch.no_grad():
            loss, parts = network.loss(x_val)
        return {"loss": float(loss), **{k: float(v) for k, v in parts.items()}}

    network.eval()
    initial = validate()
    reference = initial.get("loss", initial.get("emd"))
    tracker = _Tracker(config, [member], [seed], learning_rate, attempt, [reference], progress)
    states = []
    for epoch in range(config.epochs):
        network.train()
        permutation = torch.randperm(len(x_train), generator=generator)
        total, batches = torch.zeros(()), 0
        for start in range(0, len(x_train), config.batch_size):
            batch = x_train[permutation[start : start + config.batch_size]]
            if config.model == "wnae":
                loss, _ = sampler.loss(network, batch)
            elif config.model == "nae" and epoch >= config.pretrain_epochs:
                loss, _ = sampler.nae_loss(network, batch)
            else:
                loss, _ = network.loss(batch)
            if outliers is not None:
                if outlier_weights is None:
                    picks = torch.randint(len(outliers), (len(batch),), generator=generator)
                else:  # drawn in proportion to their weights: L_OE is the weighted mean
                    picks = torch.multinomial(outlier_weights, len(batch), replacement=True,
                                              generator=generator)  # fmt: skip
                exposure = outlier_exposure(
                    network, batch, outliers[picks], config.oe, config.oe_margin
                )
                loss = loss - _oe_weight(config, epoch) * exposure
            optimizer.zero_grad()
            loss.backward()
            if config.clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(network.parameters(), config.clip_grad_norm)
            optimizer.step()
            total, batches = total + loss.detach(), batches + 1
        network.eval()
        states.append(copy.deepcopy(network.state_dict()))
        tracker.record(0, epoch, float(total / batches), validate())
        if not tracker.training():
            break

    def load(epoch: int) -> nn.Module:
        network.load_state_dict(states[epoch])
        return network

    return [tracker.outcome(0, load)]


def train(
    x: np.ndarray,
    config: TrainConfig,
    progress: Progress | None = None,
    device: str = "cpu",
    outliers: np.ndarray | None = None,
    features: tuple[str, ...] | None = None,
    outlier_weights: np.ndarray | None = None,
) -> TrainedModel:
    """Train ``config.ensemble`` members on ``x`` (rows × features, finite values).

    Args:
        x: background-only training data; a seeded ``validation_fraction`` is held out for
            epoch selection and the working points.
        config: the hyperparameters.
        outliers: the outlier-exposure sample (rows × the same features), for ``config.oe``.
        outlier_weights: one non-negative weight per outlier row, for
            ``config.oe_reweight`` (e.g. :func:`jetad.decorrelation.mass_weights`, which makes
            the outliers' jet mass distributed as the background's): each batch's outliers
            are drawn in proportion to them.
        progress: called as ``progress(member, epoch, metrics)`` after every epoch of every
            member; ``metrics`` holds the losses, ``status`` (the epoch-choice status, or
            ``"diverged: …"``) and ``attempt``.
        device: ``"cpu"`` or ``"cuda"``.
        features: the column names; the ℓ+X VAE takes each feature's likelihood from its
            name (``hlt21`` is assumed for 21 unnamed columns).

    Raises:
        TrainingDiverged: when no member is healthy (see the module's divergence policy).
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
    if (config.oe_reweight is None) != (outlier_weights is None):
        raise ValueError("outlier reweighting needs both config.oe_reweight and outlier_weights")
    if outlier_weights is not None:
        outlier_weights = np.asarray(outlier_weights, dtype=np.float64)
        if outlier_weights.shape != (len(outliers),):
            raise ValueError(f"{len(outlier_weights)} outlier weights for {len(outliers)} rows")
        if not (np.all(np.isfinite(outlier_weights)) and np.all(outlier_weights >= 0)
                and outlier_weights.sum() > 0):  # fmt: skip
            raise ValueError("outlier weights must be finite, non-negative and not all zero")
        outlier_weights = torch.from_numpy(outlier_weights)
    if features is None and config.model == "hltvae":
        if x.shape[1] != len(HLT21_LIKELIHOODS):
            raise ValueError(
                f"the hltvae needs the feature names of its {x.shape[1]} columns "
                "(train(..., features=…)); only the 21 hlt21 columns are assumed"
            )
        features = tuple(HLT21_LIKELIHOODS)
    if features is not None and len(features) != x.shape[1]:
        raise ValueError(f"{len(features)} feature names for {x.shape[1]} columns")
    preprocessing = fit_preprocessing(config.preprocessing, train_x)
    with torch.no_grad():
        train_t = preprocessing(torch.from_numpy(train_x)).to(device)
        val_t = preprocessing(torch.from_numpy(val_x)).to(device)
        outlier_t = None
        if outliers is not None:
            outlier_t = preprocessing(torch.from_numpy(np.asarray(outliers, np.float32)))
            outlier_t = outlier_t.to(device)

    def attempt_members(pending: list[int], attempt: int) -> list[_Member]:
        seeds = [config.seed * 1000 + m + RETRY_SEED_OFFSET * attempt for m in pending]
        lr = config.learning_rate * 0.1**attempt
        if config.stackable and config.vectorize:
            return _train_stacked(config, train_t, val_t, pending, seeds, lr, attempt, progress)
        if config.stackable:
            return [
                result
                for member, seed in zip(pending, seeds, strict=True)
                for result in _train_stacked(
                    config, train_t, val_t, [member], [seed], lr, attempt, progress
                )
            ]
        return [
            result
            for member, seed in zip(pending, seeds, strict=True)
            for result in _train_one(
                config,
                train_t,
                val_t,
                member,
                seed,
                lr,
                attempt,
                progress,
                outlier_t,
                features,
                outlier_weights,
            )
        ]

    healthy: dict[int, _Member] = {}
    reports: list[MemberReport] = []
    pending = list(range(config.ensemble))
    retries = config.max_retries if config.on_divergence == "retry" else 0
    with kept_heap():  # each step's freed activations reused, not page-faulted anew
        for attempt in range(retries + 1):
            results = attempt_members(pending, attempt)
            reports += [r.report for r in results]
            healthy.update({r.report.member: r for r in results if r.report.status == "healthy"})
            pending = [r.report.member for r in results if r.report.status != "healthy"]
            if not pending:
                break
    if not healthy:
        raise TrainingDiverged(
            f"every member of the {config.model} diverged; nothing was kept: "
            + "; ".join(r.line() for r in reports)
        )
    kept = [healthy[m] for m in sorted(healthy)]
    members = [m.network.cpu().eval() for m in kept]
    background = preprocessing(torch.from_numpy(val_x))
    for member in members:
        if isinstance(member, VAE):
            member.set_reference(background)
    return TrainedModel(
        config=config,
        preprocessing=preprocessing,
        members=members,
        histories=[m.history for m in kept],
        chosen_epochs=[m.report.chosen_epoch for m in kept],
        validation=val_x,
        score_names=members[0].score_names,
        rules=[m.report.rule for m in kept],
        reports=reports,
    )
