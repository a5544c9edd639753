"""Running the engine's workers: the pass loop, clean shutdown and prompt wake-up.

The engine's modules expose plain functions that do one pass of work and return how much they did;
this package turns such a function into a long-running process (`python manage.py NAME --loop`).
"""
