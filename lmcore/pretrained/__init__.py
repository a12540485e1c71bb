"""Pretrained BERT and GPT-2 (10.4): loading, encoding, predictions, analysis, bertviz, fine-tuning."""
