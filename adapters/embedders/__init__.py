"""Embedders beyond the offline hashing default: OpenAI-compatible HTTP and sentence-transformers.

Import the module you need (``openai_compatible``, ``sentence_transformers``): nothing is
re-exported here, so that importing one embedder never pulls in the other's dependencies.
"""
