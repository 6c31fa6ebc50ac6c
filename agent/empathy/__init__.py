"""The chain of empathy (DESIGN §6): schema-constrained reasoning through a therapy lens before the reply."""
