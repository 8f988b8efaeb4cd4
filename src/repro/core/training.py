"""One resumable training loop for every model of the bundle.

:func:`fit` trains ``model`` on in-memory tensors with Adam, saves a checkpoint through the
:class:`~repro.core.cache.CheckpointCache` after every epoch, and on the next call with the same configuration either
returns the finished model at once or resumes after the last completed epoch. Each epoch's data order and random
draws are seeded from ``(seed, epoch)``, so a run that was killed and resumed ends with the same weights as one
that never stopped.

**Hooks after the optimizer step.** A submodule of the model (the model itself included) that defines a method
``after_optimizer_step(self) -> dict[str, float]`` is called by :func:`fit` after every optimizer step, in
``model.modules()`` order, under the same autocast as the loss (see :class:`AfterOptimizerStep`). This is where
a module updates what the model's loss must only *use*: IABF's total-correlation discriminator
(:class:`repro.models.iabf.Infomax`) keeps the batch's codes while the loss is computed and takes its own Adam step on
them in the hook, so the loss is a pure function of the batch and the current parameters. The metrics a hook
returns join the batch's metrics (the history row averages them like the loss's own).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from repro.core.cache import CheckpointCache
from repro.core.checks import check_choice
from repro.core.convergence import plateaued
from repro.core.runtime import ProgressLines, progress, shown_metrics

PRECISIONS = ("fp32", "bf16")
# Metrics shown on the progress bar, in order of preference: a distortion or a bound the reader can interpret, never
# a training surrogate (VIMCO's surrogate rises while training improves).
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, dict]]


@runtime_checkable
class AfterOptimizerStep(Protocol):
    """A module with work to do after each optimizer step of :func:`fit` (see the module docstring).

    ``after_optimizer_step()`` is called once per batch, after ``optimizer.step()`` on the model's parameters and
    before the next batch's loss, in training mode only, with gradients enabled and under the loss's autocast. It
    takes no arguments: what it needs from the batch (e.g. the codes the loss sampled) the module kept while the
    loss ran. It returns ``{metric: float}`` for the history (``{}`` when it has nothing to report). Whatever it
    changes must be in the module's ``state_dict`` (parameters, buffers or extra state) so checkpoints resume it.
    """

    def after_optimizer_step(self) -> dict[str, float]: ...


def step_hooks(model: nn.Module) -> list[AfterOptimizerStep]:
    """The submodules of ``model`` (itself included) that :func:`fit` calls after each optimizer step."""
    return [m for m in model.modules() if isinstance(m, AfterOptimizerStep)]


def _extendable(payload: dict | None, select_by: str | None) -> dict | None:
    """A complete shorter run that a longer one may continue from, or ``None``.

    Training is a prefix: Adam at a constant learning rate, each epoch seeded from ``(seed, epoch)``, and the plateau
    rule applied after each epoch but the last. So a run of ``E`` epochs that ended at its maximum (not on a
    plateau) holds the first ``E`` epochs of the same configuration with a larger maximum, optimizer state included,
    and a longer budget resumes it rather than training again. A run that stopped on a plateau would have stopped
    there under any maximum, so it is final under the longer budget too (its history says so)."""
    if payload is None or "optimizer" not in payload or not payload.get("history"):
        return None
    if select_by is not None and any(f"val_{select_by}" not in r for r in payload["history"]):
        return None
    return {**payload, "complete": False, "history": [dict(r) for r in payload["history"]]}


def epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch)) % (2**63 - 1)


def fit(model: nn.Module, loss_fn: LossFn, train_x: torch.Tensor, *, name: str, config: dict, epochs: int,
        batch_size: int, lr: float, seed: int, device: torch.device, train_y: torch.Tensor | None = None,
        weight_decay: float = 0.0, val_fn: Callable[[nn.Module], dict] | None = None,
        cache: CheckpointCache | None = None, stop_after: int | None = None,
        select_by: str | None = None, precision: str = "fp32", stop_plateau: float | None = None,
        min_epochs: int = 1) -> tuple[nn.Module, list[dict]]:
    """Train ``model`` to ``epochs`` epochs (or resume / reuse a cached run) and return it with its history.

    Args:
        loss_fn: ``(model, x_batch, y_batch) -> (loss, {metric: float})``; ``y_batch`` is ``None`` without labels.
        train_x: ``(N, ...)`` training inputs; ``train_y`` optional ``(N,)`` labels.
        name, config: cache file name and the configuration that identifies the run (everything that changes
            the result must be in it).
        val_fn: called after each epoch in eval mode; its metrics join the history row.
        stop_after: stop (checkpoint kept, run incomplete) after this many epochs in this call; for tests of
            interruption and for chopping a long run into pieces.
        select_by: a key of ``val_fn`` 's metrics; the returned model is then the epoch where it was lowest (the
            history marks it with ``selected``), not the last one.
        precision: ``fp32``, or ``bf16`` for bfloat16 autocast of the forward pass and loss (CPU or CUDA; weights,
            gradients and the optimizer stay fp32). It is part of the cache key when it is not ``fp32``, so fp32
            checkpoints keep their keys.
        stop_plateau: with ``select_by``, stop early (the run counts as complete) once the validation metric's
            best value improved by less than this fraction over the last quarter of the epochs
            (:func:`repro.core.convergence.plateaued`, the convergence rule of ``shared/CLAIMS.md``), and not
            before ``min_epochs`` epochs; ``epochs`` is then the maximum. The history row of the last epoch says
            ``stopped='plateau'``. Both are part of the cache key when set.

    Submodules with ``after_optimizer_step`` (:class:`AfterOptimizerStep`) are called after every optimizer step;
    their metrics join the batch's.
    """
    check_choice("precision", precision, PRECISIONS)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if select_by is not None and val_fn is None:
        raise ValueError(f"select_by={select_by!r} needs a val_fn that reports it")
    if stop_plateau is not None and (select_by is None or not 0 < stop_plateau < 1):
        raise ValueError(f"stop_plateau={stop_plateau!r} needs select_by and a value in (0, 1)")
    cache = cache or CheckpointCache()
    config = {**config, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
              "weight_decay": weight_decay, **({"select_by": select_by} if select_by else {}),
              **({"precision": precision} if precision != "fp32" else {}),
              **({"stop_plateau": stop_plateau, "min_epochs": int(min_epochs)} if stop_plateau is not None else {})}
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    hooks = step_hooks(model)
    history: list[dict] = []
    start = 0
    best = None  # {"epoch", "value", "model"} of the epoch chosen by select_by
    payload = cache.load(name, config)
    extended_from = None
    if payload is None:
        payload = _extendable(cache.shorter_run(name, config), select_by)
        extended_from = None if payload is None else int(payload["epoch"])
    if payload is not None:
        model.load_state_dict(payload["model"])
        history = list(payload.get("history", []))
        start = int(payload["epoch"])
        best = payload.get("best")
        if payload["complete"]:
            if best is not None:
                model.load_state_dict(best["model"])
            model.eval()
            return model, history
        optimizer.load_state_dict(payload["optimizer"])
        if extended_from is not None:
            # the shorter run ended at its maximum, where the plateau rule is not applied; the longer run applies
            # it at that epoch, and stops there
            if (not history[-1].get("stopped") and stop_plateau is not None and start >= min_epochs
                    and plateaued([r[f"val_{select_by}"] for r in history], stop_plateau)):
                history[-1]["stopped"] = "plateau"
            if history[-1].get("stopped"):
                cache.save(name, config, {"complete": True, "epoch": start, "model": payload["model"],
                                          "optimizer": payload["optimizer"], "history": history, "best": best})
                if best is not None:
                    model.load_state_dict(best["model"])
                model.eval()
                return model, history

    x_all = train_x.to(device) if device.type == "cuda" else train_x
    y_all = None if train_y is None else (train_y.to(device) if device.type == "cuda" else train_y)
    n = len(train_x)
    bar = progress(range(start, epochs), desc=f"train {name}", initial=start, total=epochs)
    lines = ProgressLines(name, epochs=epochs, start_epoch=start, images_per_epoch=n)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    done_here = 0
    for epoch in bar:
        torch.manual_seed(epoch_seed(seed, epoch))
        order = torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))
        model.train()
        sums: dict[str, float] = {}
        t0 = time.perf_counter()
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            xb = x_all[idx].to(device, non_blocking=True)
            yb = None if y_all is None else y_all[idx].to(device, non_blocking=True)
            with autocast:
                loss, metrics = loss_fn(model, xb, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if hooks:
                metrics = dict(metrics)
                with autocast:
                    for hook in hooks:
                        metrics.update(hook.after_optimizer_step())
            for k, v in {"loss": loss.item(), **metrics}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
            lines.batch(epoch, i + len(idx), {k: v / (i + len(idx)) for k, v in sums.items()})
        seconds = time.perf_counter() - t0
        row = {"epoch": epoch + 1, **{k: v / n for k, v in sums.items()}, "seconds": seconds,
               "images_per_s": n / seconds}
        if val_fn is not None:
            model.eval()
            with torch.no_grad():
                row.update({f"val_{k}": float(v) for k, v in val_fn(model).items()})
        if select_by is not None:
            key = f"val_{select_by}"
            if key not in row:
                raise ValueError(f"select_by={select_by!r}: val_fn reported {sorted(row)}")
            if best is None or row[key] < best["value"]:
                best = {"epoch": epoch + 1, "value": row[key], "model": copy.deepcopy(model.state_dict())}
            for r in history + [row]:
                r["selected"] = r["epoch"] == best["epoch"]
        complete = epoch + 1 == epochs
        if stop_plateau is not None and epoch + 1 >= min_epochs and not complete:
            if plateaued([r[f"val_{select_by}"] for r in history + [row]], stop_plateau):
                row["stopped"] = "plateau"
                complete = True
        history.append(row)
        shown = shown_metrics(row)
        bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()})
        lines.epoch_done(epoch, seconds, shown)
        cache.save(name, config, {"complete": complete, "epoch": epoch + 1, "model": model.state_dict(),
                                  "optimizer": optimizer.state_dict(), "history": history, "best": best})
        done_here += 1
        if complete:
            break
        if stop_after is not None and done_here >= stop_after:
            break
    bar.close()
    if best is not None and history and (history[-1]["epoch"] == epochs or history[-1].get("stopped")):
        model.load_state_dict(best["model"])
    model.eval()
    return model, history
