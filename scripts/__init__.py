"""The project's scripts; the training code they share is the package scripts.minilm
(`python -m scripts.minilm --help`)."""
