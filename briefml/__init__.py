"""briefml: a brief and a table in, a trained, evaluated, explained model out."""
__version__ = "0.1.0"
