"""readingroom: radiology teaching files and live case conferences on Jupyter and Voila."""

__version__ = "0.1.0"
