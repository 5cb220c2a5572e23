"""End-to-end demos: HAR with an L2MU, and SNN altitude control of an indoor blimp."""
