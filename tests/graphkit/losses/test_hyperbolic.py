"""The Lorentz helpers and the entailment cone loss of :mod:`graphkit.losses.hyperbolic`."""

from __future__ import annotations

import math

import pytest
import torch

from graphkit import losses as L


def test_lorentz_helpers():
    v = torch.tensor([[0.6, -0.8, 0.0], [0.0, 0.0, 0.0], [30.0, 0.0, 0.0]], dtype=torch.float64)
    for curvature in (1.0, 0.25):
        x = L.exp_map0(v, curvature)
        origin = torch.zeros(3, dtype=torch.float64)
        # The exponential map at the origin preserves the distance to the origin.
        torch.testing.assert_close(L.lorentz_distance(origin, x[0], curvature), torch.tensor(1.0, dtype=x.dtype))
        torch.testing.assert_close(L.lorentz_inner(x, x, curvature), torch.full((3,), -1 / curvature, dtype=x.dtype))
        assert torch.isfinite(x).all() and x[1].abs().sum() == 0
    assert L.half_aperture(torch.zeros(3)).item() == pytest.approx(math.pi / 2, abs=2e-3)
    for curvature in (1.0, 0.3):
        # The exterior angle is pi minus the triangle's angle at x from the hyperbolic law of cosines.
        origin = torch.zeros(2, dtype=torch.float64)
        x, y = L.exp_map0(torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64), curvature)
        a, b, c = (math.sqrt(curvature) * L.lorentz_distance(p, q, curvature) for p, q in ((origin, x), (x, y), (origin, y)))
        interior = torch.acos((a.cosh() * b.cosh() - c.cosh()) / (a.sinh() * b.sinh()))
        assert L.exterior_angle(x, y, curvature).item() == pytest.approx(math.pi - interior.item(), abs=1e-5)
    v = torch.zeros(2, requires_grad=True)
    L.exp_map0(v).sum().backward()
    torch.testing.assert_close(v.grad, torch.ones(2))  # sinh(r) / r -> 1: no NaN at the origin


def test_entailment_is_zero_inside_the_cone():
    parent = torch.tensor([-1, 0, 0])
    z = torch.tensor([[1.0, 0.0], [2.0, 0.05], [3.0, -0.05]])
    assert L.entailment_cone_loss(z, parent).loss.item() == 0.0
    assert L.entailment_cone_loss(z[[0, 2, 1]] * torch.tensor([[1.0], [-1.0], [1.0]]), parent).loss > 0
