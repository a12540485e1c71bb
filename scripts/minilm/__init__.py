"""The training code of the MiniLM-based models (and the from-scratch GPT-2 they are compared
with), run as `python -m scripts.minilm COMMAND` from the repository root:

    config.py    where things are; a dataclass per kind of run, written into metrics.json
    budget.py    the CPU-minute budget loop, checkpoints, resume
    data.py      corpora, splits, held-out sentences, masked-LM and causal batches
    wordnet.py   WordNet 3.0 glosses as English sentences
    pairs.py     the second stage's next-sentence pairs and the held-out pair files
    teacher.py   the untouched all-MiniLM-L6-v2's similarity (near-copy filter, --distill)
    models.py    build, continue, save; the losses and the learning-rate schedule
    measure.py   the metrics.json figures, by lmcore.pretrained.evaluation
    lms.py nsp.py gpt2_scratch.py   the commands
"""
