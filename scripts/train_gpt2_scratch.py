"""Recorded commands name this file; it runs `python -m scripts.minilm gpt2-scratch ARGS` (see that module's --help)."""
from _replay import replay

if __name__ == "__main__":
    replay("scripts.minilm", "gpt2-scratch")
