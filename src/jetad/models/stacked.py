"""Ensemble members of one AE/VAE architecture trained together, as stacked weight tensors.

Every ``nn.Linear`` of the members becomes one ``(members, in, out)`` weight (stored
transposed, which saves a transpose copy per layer and step) and one
``(members, 1, out)`` bias, and a layer is one batched matmul (``torch.baddbmm``) for all
members. Each member only ever sees its own slice, so its gradients, its optimiser state
(Adadelta, Adam and AdamW are element-wise) and its per-member gradient-norm clipping are those
it would have alone: training M members stacked gives the members trained one by one
(``members=1``), to float rounding. The reparametrisation noise is an input, drawn from each
member's own generator, so a member's draws do not depend on which others train beside it.
"""

from __future__ import annotations

import torch
from torch import nn

from jetad.models.networks import VAE

__all__ = ["StackedMembers"]

_IN_PLACE = {nn.SELU: torch.selu_, nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_,
             nn.ELU: nn.functional.elu_}  # fmt: skip


class StackedMembers:
    """M networks of one AE or VAE architecture as stacked parameter tensors.

    Args:
        members: freshly built networks (the template is ``members[0]``); their parameters
            are copied, so each member starts from its own seeded initialisation.
    """

    def __init__(self, members: list[nn.Module]):
        self.template = members[0]
        self.is_vae = isinstance(self.template, VAE)
        tables = [dict(m.named_parameters()) for m in members]
        self.params = {
            name: _to_stacked(name, torch.stack([t[name].detach() for t in tables]))
            for name, _ in self.template.named_parameters()
        }

    def __len__(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def _mlp(self, prefix: str, x: torch.Tensor) -> torch.Tensor:
        # bmm, then the bias and the activation in place on its fresh output: measured 1.15×
        # the step of baddbmm (which first copies the broadcast bias into the output) and an
        # out-of-place activation; autograd keeps what it needs (the activations' backward
        # uses their result, bmm's its inputs)
        for i, layer in enumerate(getattr(self.template, prefix)):
            if isinstance(layer, nn.Linear):
                x = torch.bmm(x, self.params[f"{prefix}.{i}.weight"])
                x = x.add_(self.params[f"{prefix}.{i}.bias"])
            else:
                x = _IN_PLACE.get(type(layer), layer)(x)
        return x

    def losses(
        self, x: torch.Tensor, noise: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Per-member loss ``(members,)`` and its parts, as the member's own ``loss``.

        Args:
            x: ``(members, rows, features)`` preprocessed inputs.
            noise: ``(members, rows, latent)`` standard-normal draws for the VAE's
                reparametrisation (ignored by the AE).
        """
        if not self.is_vae:
            mse = ((self._mlp("decoder", self._mlp("encoder", x)) - x) ** 2).mean(dim=2).mean(1)
            return mse, {"mse": mse}
        latent = self.template.latent
        encoded = self._mlp("encoder", x)
        mean, log_var = encoded[..., :latent], encoded[..., latent:]
        z = mean + noise * (0.5 * log_var).exp()
        mse = ((self._mlp("decoder", z) - x) ** 2).mean(dim=2).mean(dim=1)
        kl = (0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=2)).mean(dim=1)
        return self.template.alpha * mse + self.template.beta * kl, {"mse": mse, "kl": kl}

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
