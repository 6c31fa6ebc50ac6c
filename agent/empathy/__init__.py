"""The chain of empathy: schema-constrained reasoning through a therapy lens before the reply."""
