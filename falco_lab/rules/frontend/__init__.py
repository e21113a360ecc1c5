"""Front end: the syntax tree (``syntax``), the condition parser (``parser``), list substitution and escaping (``lists``)."""
