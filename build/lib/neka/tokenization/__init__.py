"""Tokenizers behind one interface: a WordPiece trained on the data, any Hugging Face
tokenizer, KoBERT's SentencePiece model."""
