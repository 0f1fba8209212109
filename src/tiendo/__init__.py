"""Tiến Độ: monitoring, evaluation and reporting for Vietnam's rural development programmes."""
