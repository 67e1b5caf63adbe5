"""The kept heap of training (glibc's mallopt), and the narrow layers' transposed product."""

from __future__ import annotations

import platform

import pytest
import torch

from jetad.models import heap
from jetad.models.stacked import NARROW_OUTPUTS, _linear


class _RecordingLibc:
    def __init__(self):
        self.calls: list[tuple] = []

    def mallopt(self, parameter, value):
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


def test_the_heap_is_kept_inside_and_left_as_glibc_adapts_it(monkeypatch):
    libc = _RecordingLibc()
    monkeypatch.setattr(heap, "_glibc", lambda: libc)
    with pytest.raises(RuntimeError), heap.kept_heap() as kept:  # handed back even on error
        assert kept
        assert libc.calls == [("mallopt", -3, 32 << 20), ("mallopt", -1, 1 << 30)]
        raise RuntimeError
    # not glibc's fixed 128 KiB defaults, which would fault every later large block afresh
    assert libc.calls[2:] == [("mallopt", -1, 64 << 20), ("malloc_trim", 0)]


def test_a_block_inside_another_changes_nothing(monkeypatch):
    libc = _RecordingLibc()
    monkeypatch.setattr(heap, "_glibc", lambda: libc)
    with heap.kept_heap():
        with heap.kept_heap() as inner:
            assert inner
        assert len(libc.calls) == 2  # the inner block neither set nor restored
    assert len(libc.calls) == 4


def test_without_glibc_the_heap_is_left_alone(monkeypatch):
    monkeypatch.setattr(heap, "_glibc", lambda: None)
    with heap.kept_heap() as kept:
        assert not kept


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_takes_the_settings():
    with heap.kept_heap() as kept:
        assert kept
        torch.empty(5 << 20).fill_(1.0)  # an allocation inside works as ever


@pytest.mark.parametrize("n_in, n_out", [(64, 2), (64, NARROW_OUTPUTS), (6, 64), (1, 64)])
def test_a_stacked_layer_is_x_times_w_plus_b_whichever_product_it_takes(n_in, n_out):
    generator = torch.Generator().manual_seed(1)
    x, weight, bias = (
        torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)
        for shape in ((3, 50, n_in), (3, n_in, n_out), (3, 1, n_out))
    )  # float64, so that the products' rounding is far below the tolerance
    ours = _linear(x, weight, bias)
    gradients = torch.autograd.grad(ours.square().sum(), (x, weight, bias))
    plain = torch.einsum("mri,mio->mro", x, weight) + bias
    expected = torch.autograd.grad(plain.square().sum(), (x, weight, bias))
    torch.testing.assert_close(ours, plain)
    for got, want in zip(gradients, expected, strict=True):
        torch.testing.assert_close(got, want)
