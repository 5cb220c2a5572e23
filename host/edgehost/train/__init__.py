"""Training (optional extra `train`: torch, snntorch): models whose every neuron follows the
project's kernel semantics, so that what is trained is what runs on the device."""
