"""Evaluators of compiled conditions: value conversion (``values``), per event (``event``), vectorised over a frame (``frame``), explanations (``explain``)."""
