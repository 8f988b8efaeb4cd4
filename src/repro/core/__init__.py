"""Infrastructure: checks of user input, paths, runtime (threads, devices, generators), the checkpoint cache, the
training loop, timing and safe file writes."""
