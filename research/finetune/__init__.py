"""`empathica finetune`: LoRA fine-tuning of a chat LLM on scripted dialogues, conditioned on the reply emotion."""
