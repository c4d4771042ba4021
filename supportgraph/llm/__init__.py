"""LLM mode: any OpenAI-compatible model for understanding, phrasing and tool proposals,
behind a fallback chain (primary -> backup -> offline -> a polite trouble message).

Importing this package is cheap: langchain-openai loads on the first model call, so
offline mode never pays for it.
"""
