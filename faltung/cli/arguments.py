"""Argument types for argparse: a bad value becomes "expected a positive integer, got 'x'"."""
import argparse

import numpy as np


def positive_int(text):
    return _number(text, int, lambda v: v > 0, "a positive integer")


def non_negative_int(text):
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def port_number(text):
    return _number(text, int, lambda v: 0 <= v <= 65535, "a port number in 0..65535")


def positive_float(text):
    return _number(text, float, lambda v: v > 0 and np.isfinite(v), "a positive number")


def fraction(text):
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def _number(text, kind, ok, expected):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value
