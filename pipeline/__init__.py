"""pipeline: promote one immutable Go Lambda artifact through per-account environments."""

__version__ = "0.1.0"
