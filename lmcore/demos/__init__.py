"""The worked examples behind the lesson pages: score demo, self-attention steps, Transformer view, compare, batch."""
