"""Communication systems assembled from models, channels and codes: the system protocol and its batched evaluator,
and building, training and evaluating NECST, the bandwidth-limited systems and the VAE storage pipeline."""
