"""The two tiny bundled language models, tiny-bert and tiny-gpt2: `python -m scripts.tiny_lms`."""
