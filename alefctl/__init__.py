"""alefctl: operations toolkit for tokenized securities."""

__version__ = "0.1.0"
