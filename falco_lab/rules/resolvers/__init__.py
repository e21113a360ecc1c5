"""Resolvers the compiler uses: macros (``macros``), event types (``evttypes``), load warnings (``warnings``)."""
