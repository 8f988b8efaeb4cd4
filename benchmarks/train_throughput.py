"""Training throughput fp32 vs bf16 autocast per model family, and the parity runs behind any bf16 choice.

    .venv/bin/python benchmarks/train_throughput.py                 # throughput + parity, writes the JSON below
    .venv/bin/python benchmarks/train_throughput.py --skip-parity   # throughput only

Throughput: full training steps (forward, loss, backward, Adam) on synthetic batches of each family's shape, one
torch thread, timed in CPU seconds of this process (``time.process_time``), so the number is images per
CPU-second and is not inflated or deflated by other load on the machine (the load average is recorded).

Parity: the same model trained fp32 and bf16, 3 seeds each, through the job layer (2 worker processes):
NECST on MNIST at eps 0.1 (full 50k training set) and the CIFAR-10 conv coder at eps 0.1, then the test distortion
(squared L2 per image, sampled code through the BSC) of each. bf16 is *kept* for a family when the difference of
the means is within the larger of the two seed standard deviations; otherwise the family stays fp32.
Output: ``benchmarks/results/train_throughput.json``. Throughput depends on the CPU, so the file keeps one entry per
kind of CPU measured under ``machines`` (keyed by the CPU model and whether it has native bf16, with its flags); a
run adds or replaces its own CPU's entry and keeps the others. The parity runs stay at the top level: they say
whether bf16 changes the result, which does not depend on the CPU's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from repro.core import precision as prec_mod
from repro.core.precision import throughput
from repro.core.runtime import pin_threads
from repro.data import load_dataset
from repro.experiments import compute
from repro.jobs import Job
from repro.jobs.local import run_local
from repro.systems import necst

OUT = Path(__file__).resolve().parent / "results" / "train_throughput.json"


def families():
    """(name, model factory, loss, input shape, batch size): the probe families of :mod:`repro.experiments.compute`."""
    return [(name, *spec) for name, spec in compute.families().items()]


PARITY = {
    "necst_mlp": dict(dataset="mnist", eps=0.1, epochs=3, n_train=None, n_test=10_000),
    "necst_conv": dict(dataset="cifar10", eps=0.1, epochs=2, n_train=2_000, n_test=2_000),
}


def parity_jobs(family: str, seeds) -> list[Job]:
    s = PARITY[family]
    out = []
    for precision in ("fp32", "bf16"):
        for seed in seeds:
            kwargs = dict(dataset=s["dataset"], eps=s["eps"], seed=seed, epochs=s["epochs"], n_train=s["n_train"],
                          batch_size=100, lr=1e-3, precision=precision)
            out.append(Job("benchmark", f"parity-{family}-{precision}-seed{seed}", "repro.systems.necst:train",
                           kwargs, cost=1.0, meta={"family": family, "precision": precision, "seed": seed}))
    return out


def parity(seeds, workers) -> list[dict]:
    jobs = [j for fam in PARITY for j in parity_jobs(fam, seeds)]
    outcomes = run_local(jobs, workers=workers)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise SystemExit(f"parity jobs failed: {[(o.job.name, o.error, str(o.log)) for o in failed]}")
    rows = []
    tests = {}
    for job in jobs:
        s = PARITY[job.meta["family"]]
        if s["dataset"] not in tests:
            tests[s["dataset"]] = load_dataset(s["dataset"], "test").subset(s["n_test"])
        model, history = job.train(device="cpu")
        d = necst.distortion(model, tests[s["dataset"]].x, s["eps"], seed=job.meta["seed"])
        rows.append({**job.meta, "dataset": s["dataset"], "eps": s["eps"], "epochs": s["epochs"],
                     "n_train": len(load_dataset(s["dataset"], "train").subset(s["n_train"], job.meta["seed"])),
                     "n_test": len(tests[s["dataset"]]), "test_l2_per_image": d["l2_per_image"],
                     "train_images_per_s": statistics.median(h["images_per_s"] for h in history)})
    return rows


def mean_image_baseline(dataset: str) -> float | None:
    """The test-split mean-image distortion the claims ledger computed (figures/sanity_mean_image.csv)."""
    import pandas as pd

    path = Path(__file__).resolve().parents[1] / "figures" / "sanity_mean_image.csv"
    if not path.exists():
        return None
    d = pd.read_csv(path)
    row = d[(d.dataset == dataset) & (d.split == "test") & (d.unit == "l2_per_image")]
    return float(row.value.iloc[0]) if len(row) else None


def summarize(rows: list[dict]) -> dict:
    """Per family: means and seed spreads, and the decision. A parity run only counts when the fp32 model is
    clearly better than the mean image (below 0.9x its distortion): agreement between two models that have not
    learned anything says nothing about bf16."""
    out = {}
    for fam in PARITY:
        vals = {p: [r["test_l2_per_image"] for r in rows if r["family"] == fam and r["precision"] == p]
                for p in ("fp32", "bf16")}
        mean = {p: statistics.mean(v) for p, v in vals.items()}
        sd = {p: statistics.stdev(v) if len(v) > 1 else float("nan") for p, v in vals.items()}
        diff = mean["bf16"] - mean["fp32"]
        spread = max(sd.values())
        baseline = mean_image_baseline(PARITY[fam]["dataset"])
        informative = baseline is not None and mean["fp32"] < 0.9 * baseline
        within = abs(diff) <= spread
        if not informative:
            decision = (f"fp32 (parity run not informative: fp32 distortion {mean['fp32']:.1f} is not below 0.9x "
                        f"the mean image's {baseline})")
        else:
            decision = "bf16" if within else "fp32 (bf16 moved test distortion beyond the seed spread)"
        out[fam] = {"fp32_mean": mean["fp32"], "fp32_sd": sd["fp32"], "bf16_mean": mean["bf16"], "bf16_sd": sd["bf16"],
                    "diff_bf16_minus_fp32": diff, "seed_spread": spread, "within_seed_spread": within,
                    "mean_image_l2_per_image": baseline, "informative": informative, "decision": decision}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-parity", action="store_true")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--resummarize", action="store_true",
                    help="recompute the parity summary of an existing output file from its runs (no training)")
    args = ap.parse_args()
    if args.resummarize:
        data = json.loads(Path(args.out).read_text())
        data["parity"] = summarize(data["parity_runs"])
        Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
        print(json.dumps(data["parity"], indent=1))
        return
    pin_threads(1)
    model, flags = prec_mod.cpu_model_and_flags()
    native, why = prec_mod.native_bf16("cpu")
    machine = {"cpu_model": model, "native_bf16": native, "native_bf16_why": why,
               "cpu_flags": sorted(f for f in flags if f.startswith(("avx", "amx", "fma", "sse4"))),
               "torch": torch.__version__, "threads_per_process": 1, "cores": os.cpu_count(),
               "load_average_start": os.getloadavg(), "platform": platform.platform(), "throughput": []}
    for name, factory, loss_fn, shape, batch in families():
        row = {"family": name}
        for prec in ("fp32", "bf16"):
            batches = args.batches if name not in ("necst_conv", "resnet") else max(4, args.batches // 5)
            if prec == "bf16" and not native:  # emulated bf16 is ~10x slower: fewer batches say as much
                batches = max(2, batches // 5)
            row[prec] = throughput(factory, loss_fn, shape, batch, prec, batches)
        row["bf16_speedup_per_cpu_s"] = round(row["bf16"]["images_per_cpu_s"] / row["fp32"]["images_per_cpu_s"], 2)
        print(json.dumps(row), flush=True)
        machine["throughput"].append(row)
    machine["load_average_end"] = os.getloadavg()
    old = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    result = {"benchmark": "train_throughput", "machines": dict(old.get("machines", {}))}
    result["machines"][f"{model} ({'native bf16' if native else 'no native bf16'})"] = machine
    if args.skip_parity and old:  # keep the parity runs of an earlier full run
        for key in ("parity_runs", "parity", "parity_wall_s"):
            if key in old:
                result[key] = old[key]
        result["parity_from_earlier_run"] = True
    if not args.skip_parity:
        t0 = time.perf_counter()
        rows = parity(args.seeds, args.workers)
        result["parity_runs"] = rows
        result["parity"] = summarize(rows)
        result["parity_wall_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(result["parity"], indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
