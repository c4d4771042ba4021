"""Pieces of bench/llm_real.py: the model server, the measuring proxy, the server log, the
eval runs and the report. Kept out of the script so each stays small and readable."""
