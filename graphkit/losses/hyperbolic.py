r"""Hyperbolic losses: entailment cones in the Lorentz model.

* The *Lorentz model* of hyperbolic space of curvature :math:`-c` is the
  upper sheet of the hyperboloid :math:`\langle x, x\rangle_L = -1/c` in
  :math:`\mathbb{R}^{F+1}`, with the Lorentzian inner product
  :math:`\langle x, y\rangle_L = \langle x, y \rangle - x_0 y_0`
  (:func:`lorentz_inner`). A point is stored by its ``F`` *space components*;
  the *time component* :math:`x_0` follows from them (:func:`lorentz_time`).
* Euclidean embeddings are read as tangent vectors at the origin and lifted
  onto the hyperboloid by the *exponential map* (:func:`exp_map0`); points
  are compared by *geodesic distance* (:func:`lorentz_distance`).
* The *entailment cone* of a point :math:`x` is the set of points seen from
  :math:`x` within its *half-aperture* (:func:`half_aperture`) of the
  direction away from the origin; the *exterior angle* (:func:`exterior_angle`)
  measures how far off that direction a point lies.

:func:`entailment_cone_loss` asks every child to lie inside its parent's cone
(MERU, Desai et al., ICML 2023): general segments near the origin, specific
ones further out.

Examples:
    >>> z = torch.tensor([[1.0, 0.0], [2.0, 0.1], [-2.0, 0.0]])
    >>> entailment_cone_loss(z, torch.tensor([-1, 0, 0])).num_anchors.item()
    2
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graphkit.losses.output import LossOutput, check_loss_inputs, reduce_terms

__all__ = [
    "entailment_cone_loss",
    "exp_map0",
    "lorentz_time",
    "lorentz_inner",
    "lorentz_distance",
    "half_aperture",
    "exterior_angle",
]


def entailment_cone_loss(
    z: Tensor,
    parent: Tensor,
    *,
    curvature: float = 1.0,
    min_radius: float = 0.1,
    on_manifold: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> LossOutput:
    r"""Every child must lie in its parent's entailment cone (MERU).

    After Desai et al., "Hyperbolic Image-Text Representations" (ICML 2023),
    in the Lorentz model of curvature :math:`-c`: the more general segment (the
    parent) entails the more specific one (its child). With :math:`x` the space
    components of a point (:func:`exp_map0` of the Euclidean ``z``),

    .. math::
        \ell_c = \max\big(0,\ \mathrm{ext}(x_{\pi(c)}, x_c) - \mathrm{aper}(x_{\pi(c)})\big)

    for every non-root node :math:`c` with parent :math:`\pi(c)`, where
    :func:`exterior_angle` is the angle at the parent between the origin and the
    child and :func:`half_aperture` the half-width of the parent's cone.

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings (tangent vectors at the origin,
            or space components on the hyperboloid with ``on_manifold``).
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        min_radius (float, optional): :math:`K`, the cone's boundary radius near
            the origin. (default: :obj:`0.1`)
        on_manifold (bool, optional): ``z`` already holds space components of
            hyperboloid points; skip :func:`exp_map0`. (default: :obj:`False`)
        eps (float, optional): Clamp margin of ``asin``/``acos``/``sqrt``
            arguments. (default: :obj:`1e-6`)
        reduction (str, optional): ``"mean"`` over anchors or ``"sum"``.
            (default: :obj:`"mean"`)

    Returns:
        LossOutput: Anchors are the non-root nodes (one term per tree edge).

    Raises:
        ValueError: If an argument is malformed or out of range.

    Examples:
        >>> z = torch.tensor([[1.0, 0.0], [2.0, 0.1], [-2.0, 0.0]])
        >>> out = entailment_cone_loss(z, torch.tensor([-1, 0, 0]))
        >>> out.per_anchor > 0
        tensor([False, False,  True])
    """
    parent = check_loss_inputs(z, parent, None, None, reduction)
    _check_curvature(curvature)
    x = z if on_manifold else exp_map0(z, curvature)
    counted = parent >= 0
    child = torch.nonzero(counted).flatten()
    general = x[parent[child]]
    angle = exterior_angle(general, x[child], curvature, eps=eps)
    aperture = half_aperture(general, curvature, min_radius=min_radius, eps=eps)
    terms = torch.relu(angle - aperture)
    per_anchor = torch.zeros(z.size(0), dtype=z.dtype, device=z.device).index_put((child,), terms)
    return reduce_terms((per_anchor, counted), reduction)


def exp_map0(v: Tensor, curvature: float = 1.0) -> Tensor:
    r"""Exponential map at the origin of the hyperboloid of curvature :math:`-c`.

    .. math::
        x = \frac{\sinh(\sqrt{c}\,\lVert v \rVert)}{\sqrt{c}\,\lVert v \rVert}\, v

    Only the space components are returned; the time component follows from
    :func:`lorentz_time`. :math:`\sqrt{c}\lVert v\rVert` is clamped to
    :math:`\operatorname{asinh}(2^{15})` so that ``sinh`` cannot overflow; the
    zero vector maps to the origin.

    Args:
        v (torch.Tensor): ``[..., F]`` tangent vectors at the origin.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: ``[..., F]`` space components.

    Examples:
        >>> exp_map0(torch.tensor([[0.0, 0.0], [1.0, 0.0]])).tolist()
        [[0.0, 0.0], [1.175201177597046, 0.0]]
    """
    _check_curvature(curvature)
    # sinh(r) / r -> 1 as r -> 0: below eps the ratio is taken at eps, where it is 1 to precision.
    radius = (math.sqrt(curvature) * v.norm(dim=-1, keepdim=True)).clamp(min=torch.finfo(v.dtype).eps)
    return torch.sinh(radius.clamp(max=math.asinh(2.0**15))) / radius * v


def lorentz_time(x: Tensor, curvature: float = 1.0) -> Tensor:
    r"""Time component :math:`x_0 = \sqrt{1/c + \lVert x \rVert^2}` of hyperboloid points.

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: ``[...]`` time components.

    Examples:
        >>> lorentz_time(torch.tensor([0.0, 0.0])).item()
        1.0
    """
    return torch.sqrt(1.0 / curvature + (x * x).sum(dim=-1))


def lorentz_inner(x: Tensor, y: Tensor, curvature: float = 1.0) -> Tensor:
    r"""Lorentzian inner product :math:`\langle x, y\rangle_L = \langle x, y \rangle - x_0 y_0`.

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        y (torch.Tensor): ``[..., F]`` space components (broadcast with ``x``).
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: ``[...]`` inner products (``-1/c`` for a point with itself).

    Examples:
        >>> lorentz_inner(torch.tensor([0.5, 0.0]), torch.tensor([0.5, 0.0])).item()
        -1.0
    """
    return (x * y).sum(dim=-1) - lorentz_time(x, curvature) * lorentz_time(y, curvature)


def lorentz_distance(x: Tensor, y: Tensor, curvature: float = 1.0, *, eps: float = 1e-6) -> Tensor:
    r"""Geodesic distance :math:`\frac{1}{\sqrt c}\operatorname{acosh}(-c\langle x, y\rangle_L)`.

    The ``acosh`` argument is clamped to ``>= 1 + eps`` (its gradient is
    infinite at ``1``).

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        y (torch.Tensor): ``[..., F]`` space components.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        eps (float, optional): Clamp margin. (default: :obj:`1e-6`)

    Returns:
        torch.Tensor: ``[...]`` distances.

    Examples:
        >>> origin, point = torch.zeros(2), exp_map0(torch.tensor([1.5, 0.0]))
        >>> round(lorentz_distance(origin, point).item(), 4)
        1.5
    """
    argument = (-curvature * lorentz_inner(x, y, curvature)).clamp(min=1.0 + eps)
    return torch.acosh(argument) / math.sqrt(curvature)


def half_aperture(x: Tensor, curvature: float = 1.0, *, min_radius: float = 0.1, eps: float = 1e-6) -> Tensor:
    r"""Half-aperture of the entailment cone at :math:`x`.

    .. math::
        \mathrm{aper}(x) = \sin^{-1}\!\Big(\frac{2K}{\sqrt{c}\,\lVert x \rVert}\Big)

    with the argument clamped to :math:`[-1 + \epsilon, 1 - \epsilon]`: points
    within :math:`2K/\sqrt c` of the origin have (almost) the widest cone,
    :math:`\pi/2`.

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        min_radius (float, optional): :math:`K`. (default: :obj:`0.1`)
        eps (float, optional): Clamp margin. (default: :obj:`1e-6`)

    Returns:
        torch.Tensor: ``[...]`` angles in :math:`(0, \pi/2)`.

    Examples:
        >>> round(half_aperture(torch.tensor([0.4, 0.0])).item(), 4)
        0.5236
    """
    ratio = 2.0 * min_radius / (math.sqrt(curvature) * x.norm(dim=-1) + eps)
    return torch.asin(ratio.clamp(-1.0 + eps, 1.0 - eps))


def exterior_angle(x: Tensor, y: Tensor, curvature: float = 1.0, *, eps: float = 1e-6) -> Tensor:
    r"""Exterior angle at :math:`x` of the hyperbolic triangle origin, :math:`x`, :math:`y`.

    .. math::
        \mathrm{ext}(x, y) = \cos^{-1}\!\Big(
            \frac{y_0 + x_0\, c\,\langle x, y\rangle_L}
                 {\lVert x \rVert \sqrt{(c\,\langle x, y\rangle_L)^2 - 1}}\Big)

    ``0`` when :math:`y` lies on the geodesic from the origin through and beyond
    :math:`x`, :math:`\pi` when it lies back towards the origin. The square-root
    argument is clamped to ``>= eps``, the denominator offset by ``eps`` and the
    cosine clamped to :math:`[-1 + \epsilon, 1 - \epsilon]`.

    Args:
        x (torch.Tensor): ``[..., F]`` space components of the cone's apex.
        y (torch.Tensor): ``[..., F]`` space components of the other point.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        eps (float, optional): Clamp margin. (default: :obj:`1e-6`)

    Returns:
        torch.Tensor: ``[...]`` angles in :math:`[0, \pi]`.

    Examples:
        >>> x = exp_map0(torch.tensor([1.0, 0.0]))
        >>> beyond, behind = exp_map0(torch.tensor([2.0, 0.0])), exp_map0(torch.tensor([-1.0, 0.0]))
        >>> round(exterior_angle(x, beyond).item(), 2), round(exterior_angle(x, behind).item(), 2)
        (0.0, 3.14)
    """
    scaled_inner = curvature * lorentz_inner(x, y, curvature)
    numerator = lorentz_time(y, curvature) + lorentz_time(x, curvature) * scaled_inner
    denominator = x.norm(dim=-1) * torch.sqrt((scaled_inner**2 - 1.0).clamp(min=eps)) + eps
    return torch.acos((numerator / denominator).clamp(-1.0 + eps, 1.0 - eps))


def _check_curvature(curvature: float) -> None:
    if not curvature > 0:
        raise ValueError(f"curvature must be > 0, got {curvature!r}")
