"""After-training trust figures computed by the engine: intervals, calibration, failures, stress, drift."""
