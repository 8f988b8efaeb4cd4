"""Notebook 05's peers: published DNA codecs (Chamaeleo) storing the same latent file as the bundle's codec.

For every seed's VAE, the VAEN ``N_bit`` 8 latents of the test images (one packed file, paper 000's system) are
stored by each peer codec (:mod:`repro.dna.peers`) and by the bundle's own format, sequenced through the same
simulator at every coverage, decoded, and the latents turned back into images. One row per (codec, seed,
coverage): information density (file bits per synthesised nt), GC content, longest homopolymer, the fraction of
the file's bytes recovered, whether the file came back exact, wrong bytes marked known, MS-SSIM and PSNR of the
reconstructions, and encode / decode time.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from repro.core.runtime import progress
from repro.dna import codec as bundle_codec
from repro.dna import peers, pipeline, storage
from repro.dna.decoder import RecoveredFile
from repro.experiments import dna_storage as ds
from repro.systems import vae_storage as vs

OURS = "bundle format"
FOUNTAIN_REDUNDANCY = 0.3  # DNA Fountain's droplets per segment minus 1, fixed before any result


def _wrong_known(files: list[RecoveredFile], originals: list[bytes]) -> int:
    return sum(ds._file_wrong_bytes(f, o) for f, o in zip(files, originals))


def peer_sweep(*, method: ds.Method, model, names, coverages, seed: int, channel: pipeline.Channel,
               scorer: ds.Scorer) -> pd.DataFrame:
    """Every peer codec (``names``) and the bundle's format storing ``method``'s files (VAE latents): one row per
    codec and coverage, plus the error-free reference (coverage inf) of the reconstruction."""
    payload = method.payload
    rows = []
    ours = method.pool
    gc = bundle_codec.gc_content(ours.oligos)
    pools = {OURS: dict(codec=OURS, oligos=ours.n_oligos, oligo_length_min=ours.fmt.length,
                        oligo_length_max=ours.fmt.length, nucleotides=ours.nucleotides,
                        bits_per_nt=8 * payload.total_bytes / ours.nucleotides, gc_mean=float(gc.mean()),
                        gc_min=float(gc.min()), gc_max=float(gc.max()),
                        max_homopolymer=bundle_codec.max_homopolymer(ours.oligos), encode_seconds=np.nan)}
    peer_pools = {}
    for name in names:
        peer_pools[name] = peers.encode(name, payload.files, fountain_redundancy=FOUNTAIN_REDUNDANCY)
        pools[name] = peer_pools[name].stats()

    def score(files):
        gamma, erased = storage.vae_latents(payload, files, method.quantizer, method.fill)
        return scorer(vs.reconstruct(model, gamma)), float(erased.float().mean())

    q, _ = score([RecoveredFile.exact(f) for f in payload.files])
    for name in [OURS, *names]:
        rows.append(dict(seed=seed, coverage=np.inf, **pools[name], nt_per_image=pools[name]["nucleotides"]
                         / payload.n_images, bytes_known=1.0, file_exact=True, wrong_known_bytes=0,
                         erased_values=0.0, decode_failed=False, seconds_clustering=0.0, seconds_decoding=0.0,
                         reads=0, **q))
    for cov in progress(coverages, desc=f"peers seed {seed}"):
        for name in [OURS, *names]:
            t0 = time.perf_counter()
            if name == OURS:
                got = pipeline.retrieve(ours, payload, cov, channel, seed)
                files, reads, failed = got.files, got.reads, False
                t_cluster, t_decode = np.nan, got.seconds_decoding
            else:
                rec = peers.retrieve(peer_pools[name], cov, channel.errors, bias_sigma=channel.bias_sigma,
                                     seed=pipeline.point_seed(seed, name, cov))
                files, reads, failed = rec.files, rec.reads, rec.decode_failed
                t_cluster, t_decode = rec.seconds_clustering, rec.seconds_decoding
            q, erased = score(files)
            known = float(np.mean(np.concatenate([f.known for f in files]))) if files else 0.0
            rows.append(dict(seed=seed, coverage=float(cov), **pools[name],
                             nt_per_image=pools[name]["nucleotides"] / payload.n_images, bytes_known=known,
                             file_exact=all(f.complete and f.data == o for f, o in zip(files, payload.files)),
                             wrong_known_bytes=_wrong_known(files, payload.files), erased_values=erased,
                             decode_failed=failed, seconds_clustering=t_cluster, seconds_decoding=t_decode,
                             reads=reads, seconds_total=time.perf_counter() - t0, **q))
    return pd.DataFrame(rows)
