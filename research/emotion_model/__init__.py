"""Training of the text-emotion model the live perceiver reads with (agent.perception.emotion_model).

`python -m research.emotion_model.train --goemotions DIR --out agent/perception/data/emotion_head.npz` fine-tunes
MiniLM's top layers on GoEmotions (Demszky et al. 2020, CC BY 4.0) mapped to the seven basic emotions; training
uses torch, the product runs the result in numpy. See docs/emotion_model.md.
"""
