"""DNA storage end to end (paper 000, sections III-IV; notebook 05).

One job per module:

- :mod:`~repro.dna.codec`: bytes -> trits (Goldman's ternary Huffman code) -> indexed, checked chunks ->
  bases (rotating code, no homopolymers); GC content; FASTA writer.
- :mod:`~repro.dna.reads`: reads as one ragged array; FASTQ/FASTA (plain or compressed, multi-line) through
  ``dnaio``, streaming, with a clear error for what is not a read file.
- :mod:`~repro.dna.simulator`: seeded sequencing simulator (bias, dropouts, both strands, substitutions, indels).
- :mod:`~repro.dna.bbmap`: BBMap ``randomreads.sh`` as a second simulator backend, when installed.
- :mod:`~repro.dna.errorstats`: measured error rates of simulated reads against their source oligos.
- :mod:`~repro.dna.consensus`: reads -> oligos (orientation, grouping, rescue of damaged indexes, consensus);
  memory and time bounded in the number of reads. The decoder needs full-length reads (each spans an oligo).
- :mod:`~repro.dna.decoder`: oligos -> files with erasures (conflicting chunks withdrawn, never overwritten);
  ``decode_reads`` is the whole read side.
- :mod:`~repro.dna.storage`: what VAEU/VAEN/JPEG/PNG store, and how images come back from partial files.
- :mod:`~repro.dna.pipeline`: the channel's settings; store (synthesis) and retrieve (sequencing + decoding).
- :mod:`~repro.dna.quality`: MS-SSIM, capped PSNR, ACC of reconstructions.
- :mod:`~repro.dna.benchmark`: throughput of every stage (``benchmarks/dna_throughput.py``).
"""
