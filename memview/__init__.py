"""memview: a formal model and model-checker harness for the 2020 memory-view proposal."""

__version__ = "0.1.0"
