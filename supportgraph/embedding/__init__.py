"""Text embeddings shared by the knowledge base and the intent model: multilingual-e5-small
(e5.py) and vectors computed once and shipped with the texts they belong to (keyed.py)."""
