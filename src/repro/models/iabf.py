"""IABF (Xu et al., 2020): adversarial bit flips and an infomax term, as regularizers of NECST's training.

Both pieces plug into :class:`repro.models.necst.NECST` (arguments ``adversary`` and ``infomax``); the training
loop, the VIMCO estimator and the networks stay NECST's.

**Adversarial bit flip (ABF, paper eqs. 23-26 and 30).** For a clean code sample ``y ~ Bern(sigma(f(x)))`` take
the gradient ``g = d loss / d y`` of the *reconstruction loss* ``loss = -log q(x | y)`` of the current decoder.
Moving a bit in the direction of ``g`` raises the loss, so the bits worth attacking are

    m_i = 1  where (y_i = 0 and g_i > 0) or (y_i = 1 and g_i < 0),

that is ``m = y XOR [g > 0]`` (eq. 25 with ``L`` read as the loss to minimize; read as the log-likelihood the
same formula would flip the bits that *help* the decoder, which contradicts "attack the most vulnerable bits").
Each bit gets a noise level ``eps_i`` proportional to ``|g_i|`` with ``sum_i eps_i = M eps`` and
``0 <= eps_i <= 1`` (found by water-filling, :func:`allocate_noise`), and only attacked bits keep it,
``eps*_i = eps_i m_i``. The training code distribution is the relaxation of eq. 30,

    p_adv(y_i = 1 | x) = sigma_i (1 - 2 eps*_i) + eps*_i .

**Infomax term (eqs. 10-14, 27).** ``L_info = sum_d [H(Y_d) - H(Y_d | X)] - TC(Y)``: per-bit entropies of the
batch-mean marginal minus the mean per-example entropies (:func:`bit_entropies`), and a total-correlation
estimate ``E_y[log C(y) / (1 - C(y))]`` (:class:`TCDiscriminator`) from a classifier trained to tell code samples
from samples whose dimensions were permuted independently across the batch (:func:`permute_dims`, Algorithm 1).
The codes reach the discriminator as hard bits with a straight-through gradient ``y + p - stop_grad(p)``. The
loss only uses the discriminator; its own training step runs in the training loop's hook after each optimizer
step (:meth:`Infomax.after_optimizer_step`, :class:`repro.core.training.AfterOptimizerStep`).
"""

from __future__ import annotations

import torch
from torch import nn

from repro.core.checks import check_range
from repro.core.runtime import draw


def flip_mask(y: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``(N, M)`` bits and the loss gradient at them -> ``(N, M)`` mask of the bits whose flip raises the loss."""
    if y.shape != grad.shape:
        raise ValueError(f"bits {tuple(y.shape)} and gradient {tuple(grad.shape)} differ in shape")
    return (((y < 0.5) & (grad > 0)) | ((y > 0.5) & (grad < 0))).to(y.dtype)


def allocate_noise(weights: torch.Tensor, eps: float, iters: int = 60) -> torch.Tensor:
    """Per-bit noise levels ``eps_i = min(1, c |w_i|)`` with ``sum_i eps_i = M eps`` in every row.

    ``weights``: ``(N, M)`` (the gradient magnitudes). The scale ``c`` of each row is found by bisection; a tiny
    floor lets zero-gradient bits take noise when the others are saturated at 1, and a row of zeros gets the
    uniform ``eps``.
    """
    check_range("ABF noise level eps", eps, 0.0, 1.0)
    w = weights.detach().abs().to(torch.float64)
    m = w.shape[-1]
    if eps == 0.0:
        return torch.zeros_like(weights)
    if eps == 1.0:
        return torch.ones_like(weights)
    target = m * eps
    scale = w.amax(-1, keepdim=True)
    zero_rows = scale <= 0
    w = torch.where(zero_rows, torch.ones_like(w), w / torch.where(zero_rows, torch.ones_like(scale), scale))
    w = w.clamp_min(1e-9)  # now max 1 per row
    # total(c) = sum_i min(1, c w_i) rises with c: total(target / sum w) <= target <= total(1e9) = M
    lo = (target / w.sum(-1, keepdim=True)).log()
    hi = torch.full_like(lo, 9 * torch.log(torch.tensor(10.0, dtype=w.dtype)))
    for _ in range(iters):
        mid = (lo + hi) / 2
        below = (mid.exp() * w).clamp_max(1.0).sum(-1, keepdim=True) < target
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    out = (hi.exp() * w).clamp_max(1.0)
    return out.clamp(0.0, 1.0).to(weights.dtype)


class AdversarialBitFlip(nn.Module):
    """The ABF code distribution: attack the bits whose flip hurts the current decoder most.

    Args:
        budget: multiplier of the channel's eps giving the adversarial budget (``sum eps_i = M * budget * eps``;
            the paper: 1).
        channel_noise: also pass the attacked code through the random channel at eps (our fix; the official
            code trains with the adversarial flips only, ``False``).
        spend: ``"all"`` (the paper's eqs. 26-27: the budget ``M eps`` is shared by all bits in proportion to
            ``|g_i|``, then the mask keeps only the attacked bits' share, so about half of it is spent) or
            ``"masked"`` (the whole budget is shared among the attacked bits only).
    """

    SPENDS = ("all", "masked")

    def __init__(self, budget: float = 1.0, channel_noise: bool = True, spend: str = "all"):
        super().__init__()
        check_range("ABF budget", budget, 0.0, 10.0)
        if spend not in self.SPENDS:
            raise ValueError(f"ABF spend={spend!r} is not valid; valid choices: {', '.join(self.SPENDS)}")
        self.budget, self.channel_noise, self.spend = float(budget), bool(channel_noise), spend

    def noise_levels(self, x: torch.Tensor, probs: torch.Tensor, eps: float, decoder: nn.Module,
                     log_likelihood) -> torch.Tensor:
        """``(N, M)`` masked per-bit flip probabilities ``eps*`` for the batch ``x`` with code probabilities
        ``probs``; ``log_likelihood(x, decoder_logits) -> (N,)``. No gradient reaches any parameter."""
        y = torch.bernoulli(probs.detach()).requires_grad_(True)
        loss = -log_likelihood(x, decoder(2 * y - 1)).sum()
        (grad,) = torch.autograd.grad(loss, [y])
        mask = flip_mask(y.detach(), grad)
        weights = grad if self.spend == "all" else grad.abs() * mask
        eps_i = allocate_noise(weights, min(1.0, self.budget * eps))
        return (eps_i * mask).detach()

    def extra_repr(self) -> str:
        return f"budget={self.budget}, channel_noise={self.channel_noise}, spend={self.spend}"


def bit_entropies(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, M)`` Bernoulli probabilities -> ``(H(Y_d), H(Y_d | X))``, each ``(M,)`` in nats: the entropy of the
    batch-mean marginal, and the mean entropy of the per-example distributions."""

    def h(p):
        p = p.clamp(1e-7, 1 - 1e-7)
        return -(p * p.log() + (1 - p) * (1 - p).log())

    return h(probs.mean(0)), h(probs).mean(0)


def permute_dims(y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shuffle every column of ``(N, M)`` codes independently across the batch: samples of the product of the
    marginals ``prod_d p(y_d)`` (the joint's dependencies are destroyed, each marginal kept)."""
    n, m = y.shape
    idx = draw(torch.rand, n, m, generator=generator, device=y.device).argsort(0)
    return torch.gather(y, 0, idx)


class TCDiscriminator(nn.Module):
    """``(N, M)`` codes -> ``(N,)`` logit of "drawn from the joint" against "drawn from the product of marginals";
    at the optimum the logit is ``log p(y) / prod_d p(y_d)``, so its mean over code samples estimates TC."""

    def __init__(self, bits: int, hidden: int = 500, layers: int = 2):
        super().__init__()
        mods, d = [], bits
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.LeakyReLU(0.2)]
            d = hidden
        self.net = nn.Sequential(*mods, nn.Linear(d, 1))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.net(2 * y - 1).squeeze(-1)


def discriminator_loss(disc: nn.Module, joint: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of eq. 13: joint samples labelled 1, permuted samples 0."""
    bce = nn.functional.binary_cross_entropy_with_logits
    lj, lp = disc(joint), disc(product)
    return bce(lj, torch.ones_like(lj)) + bce(lp, torch.zeros_like(lp))


def estimate_tc(disc: nn.Module, joint: torch.Tensor) -> torch.Tensor:
    """``TC_hat = mean logit`` over joint samples (eq. 14), differentiable in the codes, not in ``disc``."""
    params = {k: v.detach() for k, v in disc.named_parameters()}
    return torch.func.functional_call(disc, params, (joint,)).mean()


class Infomax(nn.Module):
    """``lambda * L_info`` with its own discriminator and optimizer (Algorithm 1, steps 5-8).

    The loss term (:meth:`term`) only *uses* the discriminator; it never steps it. The discriminator is trained
    by :meth:`after_optimizer_step`, which :func:`repro.core.training.fit` calls after each optimizer step of the model
    (the :class:`repro.core.training.AfterOptimizerStep` hook): one Adam step on the hard codes that the last
    :meth:`term` sampled in training mode, against their permuted copies. Per batch, the encoder's step therefore
    uses the discriminator as it was before the batch, and the discriminator then learns from the batch, the
    alternating order of FactorVAE. Training loops other than ``fit`` must call the hook themselves.

    Args:
        bits: code length M. weight: lambda (paper: one of 0.1, 0.01, 0.001).
        permute: train the discriminator against permuted codes (``False`` reproduces the official code's defect:
            both of its inputs are the same codes, so it learns nothing and TC_hat carries no information).
        lr: the discriminator's Adam learning rate.
    """

    def __init__(self, bits: int, weight: float = 0.01, permute: bool = True, lr: float = 1e-4,
                 hidden: int = 500):
        super().__init__()
        check_range("infomax weight lambda", weight, 0.0, 100.0)
        self.weight, self.permute, self.lr = float(weight), bool(permute), float(lr)
        self.disc = TCDiscriminator(bits, hidden)
        self._opt: torch.optim.Optimizer | None = None
        self._pending: torch.Tensor | None = None  # hard codes of the last training-mode term, for the hook

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        if self._opt is None:
            self._opt = torch.optim.Adam(self.disc.parameters(), lr=self.lr, betas=(0.5, 0.9))
        return self._opt

    # the discriminator's optimizer state travels with the model's state_dict (checkpoints resume exactly)
    def get_extra_state(self):
        return {"optimizer": None if self._opt is None else self._opt.state_dict()}

    def set_extra_state(self, state):
        if state and state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])

    def discriminator_inputs(self, codes: torch.Tensor,
                             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The discriminator's two inputs for codes ``(N, M)``: the joint samples and their per-dimension
        permutation (with ``permute=False``, the official code's defect, the "permuted" input *is* the joint one)."""
        y = codes.detach()
        return y, (permute_dims(y, generator) if self.permute else y)

    def update_discriminator(self, codes: torch.Tensor) -> float:
        """One Adam step of the discriminator on hard codes ``(N, M)`` (eq. 13); returns its loss."""
        y, other = self.discriminator_inputs(codes)
        with torch.enable_grad():
            loss = discriminator_loss(self.disc, y, other)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        return loss.item()

    def after_optimizer_step(self) -> dict[str, float]:
        """The training-loop hook: one discriminator step on the codes of the last training-mode :meth:`term`
        (``{"disc_loss": its loss}``); ``{}`` when no term ran since the last call."""
        codes, self._pending = self._pending, None
        if codes is None:
            return {}
        return {"disc_loss": self.update_discriminator(codes)}

    def term(self, probs: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """``(-lambda * L_info, diagnostics)`` for code probabilities ``(N, M)``: a loss to add (minimize).

        ``L_info = sum_d [H(Y_d) - H(Y_d | X)] - TC_hat``, with ``TC_hat`` the current discriminator's mean logit
        on hard codes ``y ~ Bern(p)`` (straight-through in ``p``). In training mode the codes are kept for
        :meth:`after_optimizer_step`; the discriminator itself is left unchanged."""
        h_marg, h_cond = bit_entropies(probs)
        hard = torch.bernoulli(probs.detach())
        if self.training:
            self._pending = hard
        codes = hard + probs - probs.detach()  # straight-through: hard bits forward, d/dp = 1 backward
        tc = estimate_tc(self.disc, codes)
        info = (h_marg - h_cond).sum() - tc
        return -self.weight * info, {"bit_mi": (h_marg - h_cond).sum().item(), "tc": tc.item()}

    def extra_repr(self) -> str:
        return f"weight={self.weight}, permute={self.permute}, lr={self.lr}"
