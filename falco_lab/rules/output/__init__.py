"""Rule output: output formats and Falco's JSON alerts (``format``)."""
