"""The discrete PID the spiking controllers learn to mimic (Burgers et al. 2023):

    u_k = Kp e_k + Kd (e_k - e_{k-1}) / T + Ki sum_j T e_j

with the command clipped to [-3.3, 3.3] and anti-windup (the integral stops growing while the
command is saturated in the same direction).
"""
from __future__ import annotations

from dataclasses import dataclass

from .plant import U_MAX


@dataclass
class PID:
    kp: float
    ki: float
    kd: float
    dt: float = 0.1
    integral: float = 0.0
    e_prev: float | None = None
    last_pd: float = 0.0  # the proportional + derivative part of the last command
    last_i: float = 0.0   # the integral part of the last command

    def reset(self) -> None:
        self.integral = 0.0
        self.e_prev = None

    def __call__(self, error: float) -> float:
        d = 0.0 if self.e_prev is None else (error - self.e_prev) / self.dt
        self.e_prev = error
        integral = self.integral + self.dt * error
        u = self.kp * error + self.kd * d + self.ki * integral
        if abs(u) < U_MAX or (u > 0) != (error > 0):
            self.integral = integral
        self.last_pd = self.kp * error + self.kd * d
        self.last_i = self.ki * self.integral
        return max(-U_MAX, min(U_MAX, u))
