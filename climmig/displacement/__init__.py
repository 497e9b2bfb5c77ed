"""Event-displacement model: the IDMC hurdle model (PyMC), its inputs, prediction, calibration and backtest."""
