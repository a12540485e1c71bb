"""Attention Lab's UI-free library: attention, seq2seq, Transformer, pretrained models.

Never imports streamlit (a test enforces it).
"""
from lmcore.record import AttentionMaps, AttentionTrace

__all__ = ["AttentionMaps", "AttentionTrace"]
