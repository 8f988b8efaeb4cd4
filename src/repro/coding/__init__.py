"""Source and channel codes and estimators: quantization, LDPC, classic image codecs, WebP matching, VIMCO."""
