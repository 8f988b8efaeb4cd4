"""Every paper part's figures, registered: import this module to fill :data:`repro.plots.registry.FIGURES`."""

from repro.plots import bandwidth, dna_storage, iabf, necst, vae_compression

PARTS = (vae_compression, necst, iabf, bandwidth, dna_storage)
