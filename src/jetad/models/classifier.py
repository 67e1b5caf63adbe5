"""The weakly supervised searches' classifier (:mod:`jetad.weak_supervision`): CATHODE's
feed-forward network, trained with balanced class weights, its best-validation epochs and
``seeds`` initialisations averaged, one member per fold of a *k*-fold split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from jetad.models.background_flow import validation_mask
from jetad.models.networks import mlp
from jetad.models.preprocessing import Affine

__all__ = [
    "Classifier",
    "ClassifierConfig",
    "Columns",
    "EpochEnsemble",
    "fold_scores",
    "kfold_members",
    "on_numpy",
    "standardiser",
    "train_classifier",
]


@dataclass(frozen=True)
class ClassifierConfig:
    """CATHODE's classifier (arXiv:2109.00546 §3); ``epochs`` below its 100 keeps a bench on
    two cores; the ``best_epochs`` states of smallest validation loss are averaged either way.

    ``seeds`` classifiers are trained per fold, differing in initialisation, validation split
    and batch order, and their logits averaged: with a hundred signal events in the signal
    region one classifier's output is mostly noise, and ensembles are what steadies weak
    supervision at small S/B (Finke et al., arXiv:2309.13111). ``python
    bench/weak_classifier.py`` on the search bench's pseudo-data at S/B = 1%: SIC at ε_B = 1%
    from 1.83 with one seed to 3.02 with five against a perfect background template, from 0.71
    to 1.11 in CATHODE (README, Searching for an injected signal)."""

    hidden: tuple[int, ...] = (64, 64, 64)
    learning_rate: float = 1e-3
    batch_size: int = 128
    epochs: int = 30
    folds: int = 5
    validation_fraction: float = 0.2
    best_epochs: int = 10
    seeds: int = 5
    seed: int = 0

    def __post_init__(self):
        if self.best_epochs < 1 or self.epochs < 1 or self.folds < 2 or self.seeds < 1:
            raise ValueError(
                f"a classifier needs epochs ≥ 1, best_epochs ≥ 1, folds ≥ 2, seeds ≥ 1: {self}"
            )


class Columns(nn.Module):
    """Picks the classifier's inputs from the feature set's columns and standardises them."""

    def __init__(self, columns: Sequence[int], mean: np.ndarray, scale: np.ndarray):
        super().__init__()
        self.register_buffer("columns", torch.as_tensor(list(columns), dtype=torch.long))
        self.affine = Affine(mean, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.affine(x.index_select(1, self.columns))


class Classifier(nn.Module):
    """A feed-forward binary classifier; ``scores`` is its logit, one column."""

    def __init__(self, n_inputs: int, hidden: Sequence[int]):
        super().__init__()
        self.network = mlp([n_inputs, *hidden, 1], "relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)[:, 0]

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)


class EpochEnsemble(nn.Module):
    """The states of one classifier at its best-validation epochs; the logit is their mean."""

    def __init__(self, states: Sequence[Classifier]):
        super().__init__()
        self.states = nn.ModuleList(states)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scores(x)[:, 0]

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(0)
        count = 0
        for state in self.states:
            total = state.scores(x) if count == 0 else total + state.scores(x)
            count += 1
        return total / count


def train_classifier(
    x: np.ndarray, label: np.ndarray, config: ClassifierConfig, seed: int
) -> EpochEnsemble:
    """One classifier on standardised rows ``x`` with 0/1 ``label``; balanced class weights,
    its states at the ``config.best_epochs`` epochs of smallest validation loss."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    held = validation_mask(len(x), config.validation_fraction, rng)
    xt, yt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(label.astype(np.float32))
    weight = torch.where(yt > 0, 0.5 / yt.mean(), 0.5 / (1 - yt.mean()))
    train_rows = torch.from_numpy(np.flatnonzero(~held))
    held_rows = torch.from_numpy(np.flatnonzero(held))
    network = Classifier(x.shape[1], config.hidden)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    loss = nn.BCEWithLogitsLoss(reduction="none")
    kept: list[tuple[float, int, dict]] = []  # (validation loss, epoch, state), best first
    for epoch in range(config.epochs):
        network.train()
        order = train_rows[torch.randperm(len(train_rows))]
        for batch in order.split(config.batch_size):
            optimiser.zero_grad()
            (loss(network(xt[batch]), yt[batch]) * weight[batch]).mean().backward()
            optimiser.step()
        network.eval()
        with torch.no_grad():
            value = float((loss(network(xt[held_rows]), yt[held_rows]) * weight[held_rows]).mean())
        if len(kept) < config.best_epochs or value < kept[-1][0]:
            state = {k: v.clone() for k, v in network.state_dict().items()}
            kept = sorted([*kept, (value, epoch, state)], key=lambda s: s[:2])
            kept = kept[: config.best_epochs]
    states = []
    for _, _, state in kept:
        states.append(Classifier(x.shape[1], config.hidden))
        states[-1].load_state_dict(state)
    return EpochEnsemble(states).eval()


def kfold_members(y: np.ndarray, label: np.ndarray, fold: np.ndarray, config: ClassifierConfig):
    """One member per fold, trained on the rows of the other folds: the ``config.seeds``
    classifiers' best-epoch states together, whose mean logit is the seeds' mean."""
    members = []
    for k in range(config.folds):
        train = fold != k
        trained = [
            train_classifier(y[train], label[train], config, seed=config.seed * 1000 + 100 * s + k)
            for s in range(config.seeds)
        ]
        members.append(EpochEnsemble([state for t in trained for state in t.states]).eval())
    return members


def fold_scores(members: list[EpochEnsemble], y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each row's logit from the member of its fold (one member per row, so the score has the
    same distribution for every event)."""
    rows = torch.from_numpy(y.astype(np.float32))  # converted once for every member
    with torch.no_grad():
        logits = torch.stack([m(rows) for m in members])
    return np.take_along_axis(logits.numpy().astype(float), fold[None, :], axis=0)[0]


def standardiser(x: np.ndarray, columns: list[int]) -> Columns:
    """The classifier's preprocessing: ``columns`` of ``x``, standardised on ``x``."""
    chosen = x[:, columns]
    return Columns(columns, chosen.mean(axis=0), chosen.std(axis=0))


def on_numpy(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """``module`` applied to the rows ``x`` (as float32), without gradients, as numpy."""
    with torch.no_grad():
        return module(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()
