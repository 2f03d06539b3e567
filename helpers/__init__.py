"""Shared code of the DDPM butterfly course, one small module per idea.

Import what a notebook needs, e.g. ``from helpers.schedule import linear_schedule``.
"""
__version__ = "0.1.0"
