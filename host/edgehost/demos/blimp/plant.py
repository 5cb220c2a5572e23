"""Vertical dynamics of a small indoor blimp, with its motors, servo and LiDAR.

Every physical parameter lives in `BlimpParams`, with the reasoning for its value. The model:

    (m + m_added) * z'' = F_thrust + F_buoyancy - c_lin * z' - c_quad * z' |z'|

- Thrust: two coreless motors on one shaft. The command u in [-3.3, 3.3] (the paper's range) sets
  the motors' magnitude |u|; its sign selects the shaft direction. A servo turns the shaft through
  180 degrees to reverse, at a finite rate, so a sign change costs a delay during which the vertical
  component is |u| k_thrust cos(phi). Below the dead zone |u| < 0.1 the motors do not turn.
- The motors' own response is first order (time constant tau_motor).
- Buoyancy: a net vertical force (positive up) from lift gas minus weight: zero for a neutral
  blimp, negative for a heavy one (the paper's non-neutral case).
- LiDAR (TFmini S): altitude with Gaussian noise (sigma 1 cm), quantised to its 1 cm resolution.
- Floor at z = 0 (the blimp rests on it) and a ceiling.
Integrated with semi-implicit Euler at `substep` inside each control period.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

U_MAX = 3.3
DEAD_ZONE = 0.1


@dataclass(frozen=True)
class BlimpParams:
    mass: float = 0.140            # kg: the paper's ~140 g blimp (envelope, gondola, electronics)
    added_mass: float = 0.060      # kg: air moved with a ~0.5 m envelope accelerating vertically
    k_thrust: float = 0.030        # N per unit of |u|: ~0.1 N at full command for two coreless motors
    tau_motor: float = 0.10        # s: coreless motor spin-up time constant
    servo_rate: float = np.pi / 0.6  # rad/s: a hobby micro-servo turns 180 degrees in ~0.6 s
    c_lin: float = 0.040           # N s/m: linear (viscous) drag of a slow envelope
    c_quad: float = 0.080          # N s^2/m^2: quadratic drag, 0.5 rho Cd A with A ~ 0.15 m^2
    buoyancy: float = 0.0          # N, net up force; see BUOYANCY
    lidar_sigma: float = 0.01      # m: TFmini S accuracy +-1 cm
    lidar_resolution: float = 0.01 # m
    ceiling: float = 3.0           # m
    dt_control: float = 0.1        # s: 10 Hz, the paper's control rate
    substep: float = 0.005         # s: integration step


# The buoyancy cases of the demo, in N (positive = up). -0.02 N is a ~2 g heavy blimp: the
# motors need ~0.6 of the command range just to hover, like the paper's non-neutral blimp.
BUOYANCY = {"neutral": 0.0, "negative": -0.02, "positive": 0.01}


@dataclass
class BlimpState:
    z: float = 0.5       # m, altitude
    vz: float = 0.0      # m/s
    phi: float = 0.0     # rad, shaft angle: 0 thrust up, pi thrust down
    thrust: float = 0.0  # N, motor magnitude (>= 0) after the motor lag


@dataclass
class Blimp:
    params: BlimpParams = field(default_factory=BlimpParams)
    state: BlimpState = field(default_factory=BlimpState)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def measure(self) -> float:
        """A LiDAR reading of the altitude, in m."""
        p = self.params
        z = self.state.z + self.rng.normal(0.0, p.lidar_sigma)
        return float(np.round(z / p.lidar_resolution) * p.lidar_resolution)

    def step(self, u: float) -> None:
        """Apply command u for one control period."""
        p = self.params
        s = self.state
        u = float(np.clip(u, -U_MAX, U_MAX))
        magnitude = 0.0 if abs(u) < DEAD_ZONE else abs(u) * p.k_thrust
        phi_target = s.phi if abs(u) < DEAD_ZONE else (0.0 if u > 0 else np.pi)
        m = p.mass + p.added_mass
        for _ in range(int(round(p.dt_control / p.substep))):
            dphi = np.clip(phi_target - s.phi, -p.servo_rate * p.substep, p.servo_rate * p.substep)
            s.phi += dphi
            s.thrust += (magnitude - s.thrust) * (p.substep / p.tau_motor)
            force = s.thrust * np.cos(s.phi) + p.buoyancy - p.c_lin * s.vz - p.c_quad * s.vz * abs(s.vz)
            s.vz += force / m * p.substep
            s.z += s.vz * p.substep
            if s.z <= 0.0:
                s.z, s.vz = 0.0, max(s.vz, 0.0)
            elif s.z >= p.ceiling:
                s.z, s.vz = p.ceiling, min(s.vz, 0.0)
