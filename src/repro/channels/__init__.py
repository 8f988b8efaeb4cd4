"""Noisy channels: discrete (BSC, BEC), Gaussian and bandwidth-limited AWGN, relaxed binary, and learned code priors."""
