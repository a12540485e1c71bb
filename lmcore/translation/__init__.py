"""Translation (10.1-10.2): text, data, checkpoints, decoding, training, metrics, the bundled translators."""
