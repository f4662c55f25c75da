"""Run lengths of the production detectors (engine.detectors) through the generic simulator.

The detectors expose ``run(y, n, expected_rate, dispersion) -> result`` with an (S, T) ``alarm``
array, so ``simulate_run_length`` treats R replicates as R series. Their simulated ARL0 must
agree with this package's independent ARL computations for the same chart.
"""

import numpy as np

from engine.arl import normal_cusum_arl, simulate_run_length
from engine.arl.negbin import nb_cusum_arl_discretised, nb_sampler
from engine.detectors.cusum import NegBinCusum, NormalCusum


def test_production_nb_cusum_matches_discretised_chain():
    det = NegBinCusum(direction="up", threshold=5.0, rate_ratio_up=2.0)

    def run(y):
        return det.run(y, np.ones_like(y), np.full_like(y, 10.0), dispersion=0.5).alarm

    sim = simulate_run_length(run, nb_sampler(10.0, 0.5), replicates=4_000, seed=99, initial_periods=512)
    exact = nb_cusum_arl_discretised(10.0, 0.5, 2.0, 5.0, cells=1000).arl  # ≈ 1347
    assert sim.censored.sum() == 0
    assert abs(sim.arl - exact) < 4 * sim.se


def test_production_normal_cusum_matches_integral_equation():
    # family="normal": y is already standardised (z = (y - rate)/sqrt(dispersion))
    det = NormalCusum(direction="both", threshold=4.0, k=0.5, family="normal")

    def run(z):
        return det.run(z, np.ones_like(z), np.zeros_like(z)).alarm

    sim = simulate_run_length(
        run, lambda rng, R, T: rng.standard_normal((R, T)), replicates=4_000, seed=5, initial_periods=256
    )
    assert abs(sim.arl - normal_cusum_arl(0.5, 4.0).arl) < 4 * sim.se  # 167.68
