"""The property catalogue and its executable predicates."""
