"""Training throughput of the notebook-01 VAE (images per second), fp32 and bf16 autocast.

    .venv/bin/python benchmarks/train_throughput.py [--device auto] [--batches 200] [--batch-size 64]

Runs synthetic MNIST-shaped batches through full training steps (forward, negative ELBO, backward, Adam) after
a warm-up, and prints one JSON line per precision; with --out it also writes them to a file.
"""

import argparse
import json
import platform
import time

import torch

from repro.models.vae import ConvVAE, negative_elbo
from repro.runtime import pick_device


def measure(device, batches, batch_size, bf16):
    torch.manual_seed(0)
    model = ConvVAE(16).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batches, batch_size, 1, 28, 28, device=device)

    def step(xb):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss, _ = negative_elbo(model, xb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(min(20, batches)):
        step(x[i])
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(batches):
        step(x[i])
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return {"benchmark": "vae_train_step", "device": str(device), "precision": "bf16-autocast" if bf16 else "fp32",
            "batch_size": batch_size, "batches": batches, "images_per_s": round(batches * batch_size / seconds, 1),
            "threads": torch.get_num_threads(), "torch": torch.__version__, "cpu": platform.processor() or "?"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    device = pick_device(args.device)
    rows = [measure(device, args.batches, args.batch_size, bf16) for bf16 in (False, True)]
    for row in rows:
        print(json.dumps(row))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
