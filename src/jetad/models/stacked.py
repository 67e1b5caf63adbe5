"""Ensemble members of one AE/VAE architecture trained together, as stacked weight tensors.

Every ``nn.Linear`` of the members becomes one ``(members, in, out)`` weight (stored
transposed, which saves a transpose copy per layer and step) and one
``(members, 1, out)`` bias, and a layer is one batched matmul (``torch.bmm``) for all
members. Each member only ever sees its own slice, so its gradients, its optimiser state
(Adadelta, Adam and AdamW are element-wise) and its per-member gradient-norm clipping are those
it would have alone: training M members stacked gives the members trained one by one
(``members=1``), to float rounding. The reparametrisation noise is an input, drawn from each
member's own generator, so a member's draws do not depend on which others train beside it.

The loss is a pure function of the stacked parameters and the layer plan, so that
``torch.compile`` (``TrainConfig.torch_compile``) can fuse each layer's bias, activation and
their gradients into the matmul's neighbours; it compiles once per process and shape, not once
per ensemble.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import torch
from torch import nn

from jetad.models.networks import VAE

__all__ = ["StackedMembers"]

#: In-place activations by name: the layer plan names them, so that it is a constant for
#: ``torch.compile``.
_IN_PLACE = {"selu": torch.selu_, "relu": torch.relu_, "tanh": torch.tanh_,
             "elu": nn.functional.elu_}  # fmt: skip
_NAMES = {nn.SELU: "selu", nn.ReLU: "relu", nn.Tanh: "tanh", nn.ELU: "elu"}


def _plan(template: nn.Module, prefix: str) -> tuple[str, ...]:
    """The layers of ``template.<prefix>`` as names: a parameter prefix for each
    ``nn.Linear`` (``"encoder.0"``), the activation's name for the others."""
    steps = []
    for i, layer in enumerate(getattr(template, prefix)):
        if isinstance(layer, nn.Linear):
            steps.append(f"{prefix}.{i}")
        elif type(layer) in _NAMES and getattr(layer, "alpha", 1.0) == 1.0:
            steps.append(_NAMES[type(layer)])
        else:
            raise ValueError(f"a stacked ensemble cannot train a {layer!r} layer")
    return tuple(steps)


#: A layer with at most this many outputs computes the transposed product W^T·x^T: MKL's bmm of
#: (1000 × 64)·(64 × 2) runs about 10× slower than (2 × 64)·(64 × 1000), and its gradients
#: likewise (``python bench/training.py --skip-health``, section 3: 1.08–1.09× the training).
NARROW_OUTPUTS = 8


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x @ weight + bias`` for ``(members, rows, in)`` inputs and ``(members, in, out)``
    weights."""
    if weight.shape[2] <= NARROW_OUTPUTS:
        return torch.bmm(weight.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2) + bias
    # bmm, then the bias in place on its fresh output: measured 1.15× the step of baddbmm
    # (which first copies the broadcast bias into the output); bmm's backward needs only
    # its inputs
    return torch.bmm(x, weight).add_(bias)


def _mlp(params: dict[str, torch.Tensor], plan: tuple[str, ...], x: torch.Tensor):
    # activations in place (their backward uses their result)
    for step in plan:
        if step in _IN_PLACE:
            x = _IN_PLACE[step](x)
        else:
            x = _linear(x, params[f"{step}.weight"], params[f"{step}.bias"])
    return x


def stacked_losses(
    params: dict[str, torch.Tensor],
    encoder: tuple[str, ...],
    decoder: tuple[str, ...],
    x: torch.Tensor,
    noise: torch.Tensor | None,
    latent: int,
    alpha: float,
    beta: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Per-member loss ``(members,)`` and its parts: the AE's MSE (``latent`` 0) or the VAE's
    α·MSE + β·KL, as each member's own ``loss``."""
    if latent == 0:
        mse = ((_mlp(params, decoder, _mlp(params, encoder, x)) - x) ** 2).mean(dim=2).mean(1)
        return mse, {"mse": mse}
    encoded = _mlp(params, encoder, x)
    mean, log_var = encoded[..., :latent], encoded[..., latent:]
    z = mean + noise * (0.5 * log_var).exp()
    mse = ((_mlp(params, decoder, z) - x) ** 2).mean(dim=2).mean(dim=1)
    kl = (0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=2)).mean(dim=1)
    return alpha * mse + beta * kl, {"mse": mse, "kl": kl}


_COMPILE_FAILED: list[Exception] = []  # once it failed in this process, it is not tried again


@functools.cache
def _compiled_losses() -> Callable:
    """``stacked_losses`` through ``torch.compile``, made once per process."""
    return torch.compile(stacked_losses, dynamic=False)


class StackedMembers:
    """M networks of one AE or VAE architecture as stacked parameter tensors.

    Args:
        members: freshly built networks (the template is ``members[0]``); their parameters
            are copied, so each member starts from its own seeded initialisation.
    """

    def __init__(self, members: list[nn.Module]):
        self.template = members[0]
        self.is_vae = isinstance(self.template, VAE)
        self.encoder = _plan(self.template, "encoder")
        self.decoder = _plan(self.template, "decoder")
        self.latent = self.template.latent if self.is_vae else 0
        self.alpha = float(getattr(self.template, "alpha", 1.0))
        self.beta = float(getattr(self.template, "beta", 1.0))
        tables = [dict(m.named_parameters()) for m in members]
        self.params = {
            name: _to_stacked(name, torch.stack([t[name].detach() for t in tables]))
            for name, _ in self.template.named_parameters()
        }

    def __len__(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def losses(
        self, x: torch.Tensor, noise: torch.Tensor | None, compiled: bool = False
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Per-member loss ``(members,)`` and its parts, as the member's own ``loss``.

        Args:
            x: ``(members, rows, features)`` preprocessed inputs.
            noise: ``(members, rows, latent)`` standard-normal draws for the VAE's
                reparametrisation (ignored by the AE).
            compiled: through ``torch.compile`` (the first call of a shape compiles, about
                20 s on 2 cores; then 1.3× faster per training step on 2 cores). Where it
                cannot compile (no C++ compiler), a warning says so once and the loss is
                computed as without it.
        """
        arguments = (self.params, self.encoder, self.decoder, x, noise, self.latent,
                     self.alpha, self.beta)  # fmt: skip
        if compiled and not _COMPILE_FAILED:
            try:
                return _compiled_losses()(*arguments)
            except Exception as err:  # noqa: BLE001 - any compiler failure: train without it
                _COMPILE_FAILED.append(err)
                first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                warnings.warn(
                    f"torch.compile is unavailable here ({type(err).__name__}: {first}); "
                    "training without it",
                    stacklevel=2,
                )
        return stacked_losses(*arguments)

    def clip_grad_norm(self, max_norm: float) -> None:
        """Scale each member's gradients so that its total 2-norm is at most ``max_norm``,
        as ``torch.nn.utils.clip_grad_norm_`` does for one network."""
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        norms = torch.stack([g.flatten(1).pow(2).sum(dim=1) for g in grads]).sum(dim=0).sqrt()
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.ndim - 1))))

    def state(self) -> dict[str, torch.Tensor]:
        """A detached copy of every stacked parameter."""
        return {name: p.detach().clone() for name, p in self.params.items()}

    def load_member(self, network: nn.Module, state: dict[str, torch.Tensor], member: int):
        """Load member ``member`` of a :meth:`state` into ``network`` and return it."""
        parameters = {name: _from_stacked(name, value[member]) for name, value in state.items()}
        network.load_state_dict({**dict(network.named_buffers()), **parameters})
        return network


def _to_stacked(name: str, value: torch.Tensor) -> torch.Tensor:
    """``(members, out, in)`` weights → ``(members, in, out)``; biases → ``(members, 1, out)``."""
    value = value.transpose(1, 2) if name.endswith("weight") else value.unsqueeze(1)
    return value.contiguous().clone().requires_grad_()


def _from_stacked(name: str, value: torch.Tensor) -> torch.Tensor:
    """One member's stacked parameter back in ``nn.Linear``'s layout."""
    return value.T.contiguous() if name.endswith("weight") else value[0]
