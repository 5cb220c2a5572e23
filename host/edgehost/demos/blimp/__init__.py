"""Blimp demo: an evolved spiking controller mimicking PID, flying a simulated blimp in the loop."""
