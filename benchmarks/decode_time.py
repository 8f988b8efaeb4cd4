"""Decoding time per word for NECST's Figure 3 (right): LDPC belief propagation vs the NECST decoder.

    .venv/bin/python benchmarks/decode_time.py [--dataset binary_mnist] [--batch 1000] [--unbatched-words 200]
                                               [--repeats 3] [--eps 0.2] [--max-iter 50] [--out rows.json]

Prints one JSON line per measured point; every row carries ``method`` (``LDPC-BP50`` for 50 iterations of BP from
the ``ldpc`` package), ``mode`` (``batched``: one call for ``--batch`` words; ``unbatched``: one call per word),
``bits`` and ``seconds_per_word``. The LDPC rows come from :func:`repro.coding.ldpc.time_ldpc`, which notebook 02
imports too. With --out the rows are also written to a JSON file.

BP stops early once a word satisfies every parity check, so the LDPC time is that of *up to* ``--max-iter``
iterations; each row reports ``mean_bp_iterations``. At the default eps = 0.2 (above the BP threshold of the
(3, 6) code) nearly every word runs all 50 iterations, which is the cost the paper compares against.
"""

import argparse
import json

import torch

from repro.coding.ldpc import time_ldpc
from repro.core.runtime import pick_device
from repro.systems.necst import SETTINGS, build_model, time_decoder


def ldpc_rows(bits, batch, unbatched_words, repeats, eps_values, max_iter):
    """LDPC-BP rows: batched (``batch`` words per call) and unbatched (one word per call) for every eps."""
    rows = []
    for eps in eps_values:
        rows.append(time_ldpc(bits, batch, repeats, batched=True, eps=eps, max_iter=max_iter))
        rows.append(time_ldpc(bits, unbatched_words, repeats, batched=False, eps=eps, max_iter=max_iter))
    return rows


def necst_rows(dataset, batch, unbatched_words, repeats, devices):
    """NECST decoder rows (same keys as the LDPC rows) for the dataset's architecture, untrained weights: the
    time of a forward pass does not depend on the weights' values."""
    rows = []
    for device in devices:
        model = build_model(dataset, eps=0.1).to(pick_device(device))
        rows.append(time_decoder(model, batch, repeats, batched=True))
        rows.append(time_decoder(model, unbatched_words, repeats, batched=False))
    return rows




def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="binary_mnist", choices=sorted(SETTINGS),
                    help="NECST architecture and code length (binary_mnist: 100 bits)")
    ap.add_argument("--batch", type=int, default=1000, help="words per call in batched mode")
    ap.add_argument("--unbatched-words", type=int, default=200, help="words decoded one call each")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats after a warm-up (median reported)")
    ap.add_argument("--eps", type=float, nargs="+", default=[0.2], help="BSC flip probabilities")
    ap.add_argument("--max-iter", type=int, default=50, help="BP iterations")
    ap.add_argument("--out", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args()
    bits = SETTINGS[args.dataset]["bits"]
    rows = ldpc_rows(bits, args.batch, args.unbatched_words, args.repeats, args.eps, args.max_iter)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows += necst_rows(args.dataset, args.batch, args.unbatched_words, args.repeats, devices)
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
