"""Recorded commands name this file; it runs `python -m scripts.tiny_lms ARGS` (see that module's --help)."""
from _replay import replay

if __name__ == "__main__":
    replay("scripts.tiny_lms")
