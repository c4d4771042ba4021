"""Knowledge base: markdown documents -> chunks -> an embedded Chroma collection -> search."""
