"""Throughput of the DNA storage pipeline (notebook 05): encoding, read simulation, clustering/consensus/decoding.

    .venv/bin/python benchmarks/dna_throughput.py [--files 400] [--file-bytes 500] [--coverage 3 10 30]
                                                  [--payload-nt 150] [--consensus spoa|majority] [--bbmap]
                                                  [--out rows.json]

Prints one JSON line per stage and coverage: ``stage``, ``items`` (bytes or reads), ``seconds`` and
``per_second``. The rows come from :func:`repro.dna.benchmark.throughput`, which notebook 05 calls too. Random
files stand in for the compressed payloads (JPEG, PNG and quantized latents are close to uniform bytes).
``--bbmap`` adds BBMap's ``randomreads.sh`` when it is installed (a JVM start per call: slow for small sets).
Set ``OMP_NUM_THREADS`` / ``taskset`` to pin the core count; the project's target machine has 2 cores.
"""

import argparse
import json

from repro.dna.benchmark import throughput
from repro.dna.consensus import CONSENSUS_METHODS


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=400, help="number of random files")
    ap.add_argument("--file-bytes", type=int, default=500, help="bytes per file (MNIST JPEGs are 400-700)")
    ap.add_argument("--coverage", type=float, nargs="+", default=[3, 10, 30], help="mean coverages")
    ap.add_argument("--payload-nt", type=int, default=150, help="payload nucleotides per oligo")
    ap.add_argument("--consensus", default="spoa", choices=CONSENSUS_METHODS)
    ap.add_argument("--bbmap", action="store_true", help="also time BBMap's randomreads.sh")
    ap.add_argument("--out", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args()
    rows = throughput(args.files, args.file_bytes, args.coverage, args.payload_nt, consensus=args.consensus,
                      bbmap=args.bbmap)
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
