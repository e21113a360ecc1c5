"""falco-lab: a hands-on kit for Falco runtime security on Kubernetes.

The public API is small and re-exported here; each concern lives in its own package:
``falco_lab.rules`` (the rules language), ``falco_lab.events`` (loading alerts),
``falco_lab.simulate`` (simulate mode), ``falco_lab.cluster`` (cluster mode) and
``falco_lab.analysis`` (post-mortem analysis).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
