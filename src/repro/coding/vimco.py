"""VIMCO: the multi-sample variational objective with leave-one-out control variates (Mnih and Rezende, 2016).

Given ``K`` samples ``h_k ~ q(h | x)`` and log-weights ``l_k`` (NECST: ``log p_dec(x | y_k)``; a VAE:
``log p(x | h_k) + log p(h_k) - log q(h_k | x)``), the objective is

    L = log (1/K) sum_k exp(l_k).

Its gradient has a part that flows through the ``l_k`` (decoder parameters, and the encoder when ``l_k`` depends
on it) and a score-function part for the sampling distribution, ``sum_k (L - L_{-k}) grad log q(h_k | x)``, where
the baseline ``L_{-k}`` is ``L`` recomputed with ``l_k`` replaced by the mean of the other ``K - 1`` log-weights.
Each sample's learning signal is therefore how much better the full set does than the set with that sample
replaced by a typical one; the baseline does not depend on ``h_k``, so the estimator stays unbiased.

Difference from the official NECST code (documented in notebook 02): it applies its log-mean-exp to the
*loss* (a negative log-likelihood) instead of to the likelihood, which weights the *worst* sample most;
here the standard estimator is used.
"""

from __future__ import annotations

import math

import torch


def leave_one_out_baselines(log_w: torch.Tensor) -> torch.Tensor:
    """``(K, B)`` log-weights -> ``(K, B)`` baselines ``L_{-k}`` (no gradient)."""
    lw = log_w.detach()
    k = lw.shape[0]
    if k < 2:
        raise ValueError("VIMCO needs at least K = 2 samples")
    mean_others = (lw.sum(0, keepdim=True) - lw) / (k - 1)  # (K, B)
    replaced = lw.unsqueeze(0).repeat(k, 1, 1)  # (K_replaced, K, B)
    idx = torch.arange(k)
    replaced[idx, idx] = mean_others
    return torch.logsumexp(replaced, 1) - math.log(k)


def vimco_objective(log_w: torch.Tensor, log_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Surrogate whose gradient is the VIMCO estimator, and the objective's value.

    Args:
        log_w: ``(K, B)`` log-weights, differentiable where they depend on parameters.
        log_q: ``(K, B)`` log-probability of each sample under the sampling distribution (differentiable in the
            encoder's parameters; the samples themselves carry no gradient).

    Returns:
        ``(surrogate, bound)``: maximize ``surrogate.mean()`` (its gradient is the estimator); ``bound`` is the
        ``(B,)`` value of ``L`` for logging.
    """
    if log_w.shape != log_q.shape:
        raise ValueError(f"log_w {tuple(log_w.shape)} and log_q {tuple(log_q.shape)} differ")
    k = log_w.shape[0]
    bound = torch.logsumexp(log_w, 0) - math.log(k)
    signal = bound.detach().unsqueeze(0) - leave_one_out_baselines(log_w)
    surrogate = bound + (signal * log_q).sum(0)
    return surrogate, bound.detach()
