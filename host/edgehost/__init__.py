"""edgehost: edge inference of spiking, binary and multiplication-free networks."""

__version__ = "0.1.0"
